package spec

import (
	"fmt"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

// FieldError is one problem in a spec, at a path such as
// "checks[2].http.url".
type FieldError struct {
	Path string
	Msg  string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem found in a spec. Parse and Validate return all
// of them at once so a user fixes a spec in one round.
type Errors []FieldError

// Add appends a problem at path.
func (es *Errors) Add(path, format string, args ...any) {
	*es = append(*es, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, or es.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

func (es Errors) Error() string {
	if len(es) == 1 {
		return "invalid spec: " + es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid spec: %d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n- ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Path helpers, so every package writes paths the same way.

// Index returns "prefix[i]".
func Index(prefix string, i int) string { return strict.Index(prefix, i) }

// Field returns "prefix.name", or name when prefix is empty.
func Field(prefix, name string) string { return strict.Field(prefix, name) }
