package expect

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
)

// state is one evaluation's guard: its context and the text it has built.
type state struct {
	ctx   context.Context
	done  <-chan struct{}
	bytes int64
}

type stateKey struct{}

// stateOf returns the evaluation's state; a program run without Run (a
// nil or foreign context) gets a fresh, unbounded-in-time state.
func stateOf(arg any) *state {
	if ctx, ok := arg.(context.Context); ok && ctx != nil {
		if st, ok := ctx.Value(stateKey{}).(*state); ok {
			return st
		}
	}
	return &state{}
}

// check returns an error once the evaluation's context is done.
func (st *state) check() error {
	select {
	case <-st.done:
		return fmt.Errorf("expect expression stopped: %w", context.Cause(st.ctx))
	default:
		return nil
	}
}

// reserve charges n bytes of text that fn is about to build.
func (st *state) reserve(fn string, n int64) error {
	if err := st.check(); err != nil {
		return err
	}
	if n < 0 || n > MaxBytes-st.bytes {
		return &BudgetError{Func: fn, Want: n}
	}
	st.bytes += n
	return nil
}

// Names the patch introduces; a user expression may not use them.
const (
	tickName = "_tick"
	addName  = "_add"
)

// guarded are the builtins replaced by versions that size their output
// first. Each returns the bytes the call may build, given its arguments.
var guarded = map[string]func(args []any) int64{
	"upper":      func(a []any) int64 { return 2 * strLen(a, 0) }, // a rune may grow when cased
	"lower":      func(a []any) int64 { return 2 * strLen(a, 0) },
	"split":      splitCost,
	"splitAfter": splitCost,
	"replace":    replaceCost,
	"repeat":     repeatCost,
	"join":       joinCost,
	"string":     func(a []any) int64 { return sizeOf(arg(a, 0), MaxBytes+1) },
	"toJSON":     func(a []any) int64 { return 2 * sizeOf(arg(a, 0), MaxBytes+1) },
	"fromJSON":   func(a []any) int64 { return 4 * strLen(a, 0) },
	"toBase64":   func(a []any) int64 { return int64(base64.StdEncoding.EncodedLen(int(strLen(a, 0)))) },
	"fromBase64": func(a []any) int64 { return strLen(a, 0) },
}

var ctxType = reflect.TypeFor[context.Context]()

// guardOptions are the expr options that install the guard: the patch,
// _tick, _add and the guarded builtins.
func guardOptions(g *guardPatch) []expr.Option {
	opts := []expr.Option{
		expr.Patch(g),
		// _tick passes its value's type through, so predicates keep theirs.
		func(c *conf.Config) {
			c.Functions[tickName] = &builtin.Function{Name: tickName, Func: tick, Validate: tickType}
		},
		expr.Function(addName, add,
			new(func(context.Context, string, string) string),
			new(func(context.Context, any, any) any)),
	}
	for _, b := range builtin.Builtins {
		cost, ok := guarded[b.Name]
		if !ok {
			continue
		}
		opts = append(opts, expr.Function(b.Name, guardedCall(b, cost), withContext(b.Types)...))
	}
	return opts
}

func tickType(args []reflect.Type) (reflect.Type, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%s takes 2 arguments, got %d", tickName, len(args))
	}
	return args[1], nil
}

// tick is the first step of every predicate iteration: it stops the loop
// once the evaluation's context is done.
func tick(args ...any) (any, error) {
	if err := stateOf(args[0]).check(); err != nil {
		return nil, err
	}
	return args[1], nil
}

// add is + on anything but two numbers: two strings are sized first.
func add(args ...any) (any, error) {
	st := stateOf(args[0])
	a, b := args[1], args[2]
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			if err := st.reserve("+", int64(len(as))+int64(len(bs))); err != nil {
				return nil, err
			}
			return as + bs, nil
		}
	}
	if err := st.check(); err != nil {
		return nil, err
	}
	return runtime.Add(a, b), nil
}

// guardedCall wraps builtin b: it charges what the call may build, then
// calls the original.
func guardedCall(b *builtin.Function, cost func([]any) int64) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("internal error: %s called without its context", b.Name)
		}
		st, rest := stateOf(args[0]), args[1:]
		if err := st.reserve(b.Name, cost(rest)); err != nil {
			return nil, err
		}
		switch {
		case b.Fast != nil && len(rest) == 1:
			return b.Fast(rest[0]), nil
		case b.Func != nil:
			return b.Func(rest...)
		case b.Safe != nil:
			out, _, err := b.Safe(rest...)
			return out, err
		}
		return nil, fmt.Errorf("internal error: builtin %s has no implementation", b.Name)
	}
}

// withContext returns the builtin's signatures with a context.Context
// first, the argument the patch adds.
func withContext(ts []reflect.Type) []any {
	out := make([]any, 0, len(ts))
	for _, t := range ts {
		in := []reflect.Type{ctxType}
		for i := range t.NumIn() {
			in = append(in, t.In(i))
		}
		outs := make([]reflect.Type, t.NumOut())
		for i := range outs {
			outs[i] = t.Out(i)
		}
		out = append(out, reflect.New(reflect.FuncOf(in, outs, t.IsVariadic())).Interface())
	}
	return out
}

// guardPatch is the expr visitor that installs the guard. It runs once,
// on the tree as parsed (after a first type check, so node types are
// known), children before parents.
type guardPatch struct {
	err error
}

func (g *guardPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		switch n.Value {
		case ctxName, tickName, addName:
			if g.err == nil {
				g.err = fmt.Errorf("%s is a reserved name in expect expressions", n.Value)
			}
		}
	case *ast.PredicateNode:
		n.Node = g.call(tickName, n.Node, n.Node)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && guarded[id.Value] != nil {
			n.Arguments = append([]ast.Node{g.ctxIdent(n)}, n.Arguments...)
		}
	case *ast.BinaryNode:
		if n.Operator == "+" && !arithmetic(n.Left.Type()) || n.Operator == "+" && !arithmetic(n.Right.Type()) {
			ast.Patch(node, g.call(addName, n, n.Left, n.Right))
		}
	}
}

func (g *guardPatch) ctxIdent(at ast.Node) ast.Node {
	id := &ast.IdentifierNode{Value: ctxName}
	id.SetLocation(at.Location())
	return id
}

func (g *guardPatch) call(name string, at ast.Node, args ...ast.Node) ast.Node {
	callee := &ast.IdentifierNode{Value: name}
	callee.SetLocation(at.Location())
	c := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{g.ctxIdent(at)}, args...)}
	c.SetLocation(at.Location())
	return c
}

// arithmetic reports whether + on a value of type t builds no text:
// numbers, durations and times.
func arithmetic(t reflect.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return t == reflect.TypeFor[time.Time]()
}

// Costs of the guarded builtins, in bytes; a value over MaxBytes is
// refused whatever it is exactly.

func arg(a []any, i int) any {
	if i < len(a) {
		return a[i]
	}
	return nil
}

func strLen(a []any, i int) int64 {
	s, _ := arg(a, i).(string)
	return int64(len(s))
}

func splitCost(a []any) int64 {
	s, _ := arg(a, 0).(string)
	sep, _ := arg(a, 1).(string)
	var n int64
	if sep == "" {
		n = int64(utf8.RuneCountInString(s))
	} else {
		n = int64(strings.Count(s, sep)) + 1
	}
	return 16 * n // one string header per part; the parts share s
}

func replaceCost(a []any) int64 {
	s, _ := arg(a, 0).(string)
	old, _ := arg(a, 1).(string)
	nw, _ := arg(a, 2).(string)
	var n int64
	if old == "" {
		n = int64(utf8.RuneCountInString(s)) + 1
	} else {
		n = int64(strings.Count(s, old))
	}
	grow := int64(len(nw)) - int64(len(old))
	if grow > 0 && n > 0 && grow > (MaxBytes+1)/n {
		return MaxBytes + 1
	}
	return int64(len(s)) + max(n*grow, 0)
}

func repeatCost(a []any) int64 {
	s, _ := arg(a, 0).(string)
	n := toInt(arg(a, 1))
	if n <= 0 || len(s) == 0 {
		return 0
	}
	if int64(len(s)) > (MaxBytes+1)/n {
		return MaxBytes + 1
	}
	return int64(len(s)) * n
}

func joinCost(a []any) int64 {
	glue, _ := arg(a, 1).(string)
	var total int64
	add := func(s string) bool {
		total += int64(len(s)) + int64(len(glue))
		return total <= MaxBytes
	}
	switch l := arg(a, 0).(type) {
	case []string:
		for _, s := range l {
			if !add(s) {
				break
			}
		}
	case []any:
		for _, e := range l {
			s, _ := e.(string)
			if !add(s) {
				break
			}
		}
	}
	return total
}

func toInt(v any) int64 {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(min(rv.Uint(), uint64(1)<<62))
	case reflect.Float32, reflect.Float64:
		return int64(min(rv.Float(), float64(1<<62)))
	}
	return 0
}

// sizeOf estimates the bytes v takes written out (string, toJSON),
// stopping once past limit.
func sizeOf(v any, limit int64) int64 {
	var total int64
	var walk func(rv reflect.Value) bool
	walk = func(rv reflect.Value) bool {
		if total > limit {
			return false
		}
		switch rv.Kind() {
		case reflect.Invalid:
			total += 4
		case reflect.Interface, reflect.Pointer:
			if rv.IsNil() {
				total += 4
				return true
			}
			return walk(rv.Elem())
		case reflect.String:
			total += int64(rv.Len()) + 2
		case reflect.Slice, reflect.Array:
			total += 2
			for i := range rv.Len() {
				if !walk(rv.Index(i)) {
					return false
				}
				total++
			}
		case reflect.Map:
			total += 2
			it := rv.MapRange()
			for it.Next() {
				if !walk(it.Key()) || !walk(it.Value()) {
					return false
				}
				total += 2
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				if !walk(rv.Field(i)) {
					return false
				}
			}
		default:
			total += 24
		}
		return total <= limit
	}
	walk(reflect.ValueOf(v))
	return total
}
