package metrics

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// idPattern is what CloudWatch accepts as a MetricDataQuery Id.
var idPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// rewriteExpression makes a user's metric math expression safe to send in
// one GetMetricData call with other checks' queries: every metric id it
// names is replaced by rename(id), and METRICS() — which would otherwise
// return every metric of the request, other checks' included — becomes
// the explicit array of this check's renamed ids ([a, b]); METRICS('s')
// becomes the array of those whose id contains s, as CloudWatch defines it.
//
// It tokenises rather than substitutes: string literals ('…' or "…", with
// backslash escapes, as in SEARCH('{AWS/EC2} MetricName="CPU"', 'Average'))
// and numbers (1e-3) are copied untouched; an identifier followed by "(" is
// a function (SUM, FILL, IF, …) and is kept; an identifier starting with
// an upper-case letter or "_" is a keyword (REPEAT, LINEAR, DESC, SUM as an
// argument of SORT) and is kept, since ids start with a lower-case letter.
// Any other identifier must be one of ids, or the expression is refused
// with an error naming it and the ids that are defined.
//
// When all is not empty, a bare METRICS() becomes all instead of the
// array: the caller passes METRICS('m3_') when no other query of the
// request has "m3_" in its Id, which keeps a check of hundreds of metrics
// under CloudWatch's 2,048-character limit on an expression.
//
// ids must be sorted; the METRICS arrays follow their order.
func rewriteExpression(src string, ids []string, rename func(string) string, all string) (string, error) {
	var b strings.Builder
	b.Grow(len(src) + 16)
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			end, err := scanString(src, i)
			if err != nil {
				return "", err
			}
			b.WriteString(src[i:end])
			i = end
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			end := scanNumber(src, i)
			b.WriteString(src[i:end])
			i = end
		case isIdentStart(c):
			end := i + 1
			for end < len(src) && isIdentPart(src[end]) {
				end++
			}
			word := src[i:end]
			next := skipSpace(src, end)
			isCall := next < len(src) && src[next] == '('
			switch {
			case isCall && strings.EqualFold(word, "METRICS"):
				arr, after, err := expandMetrics(src, next, ids, rename, all)
				if err != nil {
					return "", err
				}
				b.WriteString(arr)
				i = after
				continue
			case isCall:
				b.WriteString(word)
			case slices.Contains(ids, word):
				b.WriteString(rename(word))
			case c >= 'a' && c <= 'z':
				return "", fmt.Errorf("%q at column %d is not a metric id of this check (defined: %s); add it under metrics, or fix the spelling", word, i+1, idList(ids))
			default:
				b.WriteString(word)
			}
			i = end
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// expandMetrics reads "(" [string] ")" at open and returns the array that
// replaces METRICS(…), and the index after ")".
func expandMetrics(src string, open int, ids []string, rename func(string) string, all string) (string, int, error) {
	j := skipSpace(src, open+1)
	filter, hasFilter := "", false
	if j < len(src) && (src[j] == '\'' || src[j] == '"') {
		end, err := scanString(src, j)
		if err != nil {
			return "", 0, err
		}
		filter, hasFilter = unquote(src[j:end]), true
		j = skipSpace(src, end)
	}
	if j >= len(src) || src[j] != ')' {
		return "", 0, fmt.Errorf("METRICS at column %d takes no argument or one quoted string, as in METRICS() or METRICS('errors')", open)
	}
	if !hasFilter && all != "" && len(ids) > 0 {
		return all, j + 1, nil
	}
	var picked []string
	for _, id := range ids {
		if !hasFilter || strings.Contains(id, filter) {
			picked = append(picked, rename(id))
		}
	}
	if len(picked) == 0 {
		return "", 0, fmt.Errorf("METRICS(%q) at column %d matches no metric id of this check (defined: %s)", filter, open, idList(ids))
	}
	return "[" + strings.Join(picked, ", ") + "]", j + 1, nil
}

// scanString returns the index just after the string literal at i.
func scanString(src string, i int) (int, error) {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("string starting at column %d has no closing %c", i+1, q)
}

// unquote strips the quotes of a literal scanString found and resolves
// backslash escapes.
func unquote(lit string) string {
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for k := 0; k < len(body); k++ {
		if body[k] == '\\' && k+1 < len(body) {
			k++
		}
		b.WriteByte(body[k])
	}
	return b.String()
}

// scanNumber returns the index just after the number at i: digits, a
// point, an exponent with its sign, and any letters glued to it (which
// CloudWatch will judge; they are not ids).
func scanNumber(src string, i int) int {
	j := i
	for j < len(src) {
		c := src[j]
		switch {
		case isIdentPart(c) || c == '.':
			j++
		case (c == '+' || c == '-') && (src[j-1] == 'e' || src[j-1] == 'E'):
			j++
		default:
			return j
		}
	}
	return j
}

func skipSpace(src string, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
		i++
	}
	return i
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

func idList(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
