package notify

import "strconv"

// Count renders n with its noun, singular for one: Count(1,
// "vulnerability", "vulnerabilities") is "1 vulnerability", Count(3, …)
// "3 vulnerabilities". Every count a message renders goes through it.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
