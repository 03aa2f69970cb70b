package golden

import (
	"strconv"
	"strings"
)

// contextLines is how many unchanged lines lineDiff shows around a change.
const contextLines = 3

// maxCells bounds the lines(want) × lines(got) table lineDiff builds;
// past it the two texts are shown whole instead.
const maxCells = 4 << 20

// lineDiff renders the difference between two texts line by line: "-"
// before a line only in want, "+" before a line only in got, " " before
// an unchanged line, with runs of unchanged lines far from any change
// folded into "…". Lines whose ends are not visible (trailing blanks, a
// carriage return) are quoted, and a missing final newline is said, so
// every difference shows.
func lineDiff(want, got string) string {
	a, b := splitLines(want), splitLines(got)
	if len(a)*len(b) > maxCells {
		return "--- want ---\n" + want + "\n--- got ---\n" + got
	}
	ops := diffOps(a, b)

	// Show each change and the unchanged lines within contextLines of it.
	show := make([]bool, len(ops))
	for k, o := range ops {
		if o.kind == ' ' {
			continue
		}
		for c := max(0, k-contextLines); c <= min(len(ops)-1, k+contextLines); c++ {
			show[c] = true
		}
	}
	var sb strings.Builder
	folded := false
	for k, o := range ops {
		if !show[k] {
			if !folded {
				sb.WriteString("  …\n")
				folded = true
			}
			continue
		}
		folded = false
		sb.WriteByte(o.kind)
		sb.WriteByte(' ')
		sb.WriteString(renderLine(o.line))
		sb.WriteByte('\n')
	}
	return sb.String()
}

// op is one line of a diff: kind is ' ', '-' or '+'.
type op struct {
	kind byte
	line string
}

// diffOps turns a into b with the fewest deleted and inserted lines (a
// longest common subsequence), deletions before insertions at each change.
func diffOps(a, b []string) []op {
	n, m := len(a), len(b)
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	ops := make([]op, 0, max(n, m))
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	return ops
}

// splitLines splits s after each newline, so that each line keeps its
// "\n" and a last line without one differs from the same line with one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// renderLine shows a line for the diff without its newline, quoted when
// its end would not be visible.
func renderLine(line string) string {
	text, newline := strings.CutSuffix(line, "\n")
	if strings.TrimRight(text, " \t\r") != text {
		text = strconv.Quote(text)
	}
	if !newline {
		text += "  (no newline at end)"
	}
	return text
}
