// Package expect compiles and runs the expect expressions of checks
// (expr-lang/expr) so that their work is bounded by the check's timeout
// and by the sample's deadline, whatever the expression does.
//
// expr v1.17 has no way to cancel a running program: expr.WithContext only
// passes a context to functions that take one, and the VM's MemoryBudget
// counts the elements of ranges and collections, not the bytes of strings,
// so `none(1..999999, body contains "x")` on a 1 MiB body runs for
// minutes and `repeat(body, 999999)` asks for a terabyte. Compile
// therefore patches the expression (an expr visitor, run before type
// checking):
//
//   - every predicate body (all, none, any, one, filter, map, count, sum,
//     find…, groupBy, sortBy, reduce) first checks the evaluation's
//     context, so a loop stops at its next iteration once the deadline
//     has passed;
//   - every builtin that builds text or decodes it (upper, lower, split,
//     splitAfter, replace, repeat, join, string, toJSON, fromJSON,
//     toBase64, fromBase64) and string concatenation with + are replaced
//     by versions that check the context and size their output before
//     building it, against a per-evaluation budget of MaxBytes.
//
// Run evaluates on its own goroutine and returns at the deadline with a
// *TimeoutError, which a check reports as that sample's Error; the patched
// program then stops at its next check instead of running on.
package expect
