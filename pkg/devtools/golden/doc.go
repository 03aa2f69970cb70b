// Package golden checks test output against golden files kept in a
// package's testdata directory, and rewrites them when the test binary
// runs with -update:
//
//	func TestAlertText(t *testing.T) {
//		golden.Check(t, "testdata/alert.txt", alert.Text())
//	}
//
// A mismatch fails the test with a line diff (-want +got) and the command
// that rewrites the package's golden files, e.g.
// `go test ./pkg/notify -update`; review the rewritten files with git diff
// before committing them.
//
// The package registers the -update flag itself. A test binary links it
// once, so a test package that uses it must not define its own -update
// flag (a second registration of the same name panics).
package golden
