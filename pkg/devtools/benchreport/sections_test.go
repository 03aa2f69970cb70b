package main

import "testing"

func TestMarkedSections(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", "# Benchmarks\n| a | b |\n", ""},
		{"one kept whole", "x\n<!-- section:t:begin (by y) -->\n## T\nfigures\n<!-- section:t:end -->\ntail", "\n<!-- section:t:begin (by y) -->\n## T\nfigures\n<!-- section:t:end -->\n"},
		{"no end marker: left out", "x\n<!-- section:t:begin -->\n## T\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := markedSections(tt.in); got != tt.want {
				t.Errorf("markedSections(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}
