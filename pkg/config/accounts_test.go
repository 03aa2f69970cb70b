package config

import "testing"

func TestAccountID(t *testing.T) {
	for _, tc := range []struct {
		name, v, want string
		bad           bool
	}{
		{"unset", "", "", false},
		{"an account id", "111111111111", "111111111111", false},
		{"too short", "1111", "", true},
		{"not digits", "11111111111a", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AccountID(func(k string) string {
				if k == EnvAccountID {
					return tc.v
				}
				return ""
			})
			if got != tc.want || (err != nil) != tc.bad {
				t.Errorf("AccountID(%s=%q) = %q, %v; want %q, error %v", EnvAccountID, tc.v, got, err, tc.want, tc.bad)
			}
		})
	}
}
