package expect

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Limits of one evaluation.
const (
	// DefaultTimeout bounds an evaluation whose check sets no timeout.
	DefaultTimeout = 5 * time.Second
	// MaxBytes is how much text one evaluation may build (strings made by
	// +, upper, replace, repeat, join, toJSON…, counted as they are made).
	// A response body is at most 1 MiB, so this leaves room for any
	// reasonable expression while keeping 50 checks × MaxBytes well within
	// the function's memory.
	MaxBytes     = 16 << 20
	maxBytesText = "16 MiB"
)

// ctxName is the environment field the patched program reads its context
// from; user expressions may not name it.
const ctxName = "_ctx"

// Context is embedded in every expression environment. Run sets it; the
// patched program hands it to the guarded functions. Expressions cannot
// name it.
type Context struct {
	Ctx context.Context `expr:"_ctx"`
}

// Program is a compiled, guarded expect expression. It is safe for
// concurrent use.
type Program struct {
	prog *vm.Program
	src  string
	env  reflect.Type
	ctx  []int // index of the Context field in env
	// onDone, when set (tests), is called when an evaluation's goroutine
	// ends, also after Run has returned at the deadline.
	onDone func()
}

// Compile compiles src against env, the zero value of an environment
// struct that embeds Context, as an expression that must yield a bool.
// opts are further expr options.
func Compile(src string, env any, opts ...expr.Option) (*Program, error) {
	t := reflect.TypeOf(env)
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("internal error: expect environment %T is not a struct", env)
	}
	f, ok := t.FieldByName("Context")
	if !ok || f.Type != reflect.TypeFor[Context]() {
		return nil, fmt.Errorf("internal error: expect environment %s does not embed expect.Context", t)
	}
	g := &guardPatch{}
	all := append([]expr.Option{expr.Env(env), expr.AsBool()}, guardOptions(g)...)
	all = append(all, opts...)
	prog, err := expr.Compile(src, all...)
	if g.err != nil {
		return nil, g.err
	}
	if err != nil {
		return nil, err
	}
	return &Program{prog: prog, src: src, env: t, ctx: append(f.Index, 0)}, nil
}

// Source returns the expression as written.
func (p *Program) Source() string { return p.src }

// TimeoutError is an evaluation that did not finish in time.
type TimeoutError struct {
	// Limit is how long it had.
	Limit time.Duration
	// Deadline is true when the sample's deadline, not the check's
	// timeout, cut it short.
	Deadline bool
}

func (e *TimeoutError) Error() string {
	why := "the check's timeout"
	if e.Deadline {
		why = "the time left before the sample's deadline"
	}
	return fmt.Sprintf("expect expression did not finish within %s (%s); make it do less work, e.g. test json fields instead of scanning body in a loop", round(e.Limit), why)
}

// BudgetError is an evaluation that built more text than MaxBytes.
type BudgetError struct {
	// Func is the function or operator that would have passed the budget.
	Func string
	// Want is how many bytes it would have built on top of what the
	// evaluation already had.
	Want int64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("expect expression would build more than %s of text (%s needed %d more bytes); an expect expression needs no more than the response it judges", maxBytesText, e.Func, e.Want)
}

// Run evaluates p against env (a value of the environment type p was
// compiled for) and returns its result (a bool, or nil when the
// expression yields nothing, e.g. json?.missing). It returns by the earlier of
// timeout (DefaultTimeout when 0) and ctx's deadline, with a *TimeoutError
// when the evaluation had not finished; the evaluation then stops at its
// next guarded step. A *BudgetError reports an evaluation that would have
// built more than MaxBytes of text.
func (p *Program) Run(ctx context.Context, timeout time.Duration, env any) (any, error) {
	if reflect.TypeOf(env) != p.env {
		return nil, fmt.Errorf("internal error: expect environment is %T, compiled for %s", env, p.env)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	limit, byDeadline := timeout, false
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < limit {
			limit, byDeadline = max(left, 0), true
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel() // stops a runaway evaluation at its next guarded step
	st := &state{done: ctx.Done(), ctx: ctx}
	gctx := context.WithValue(ctx, stateKey{}, st)

	ev := reflect.New(p.env).Elem()
	ev.Set(reflect.ValueOf(env))
	ev.FieldByIndex(p.ctx).Set(reflect.ValueOf(gctx))

	type result struct {
		out any
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := vm.Run(p.prog, ev.Interface())
		done <- result{out, err}
		if p.onDone != nil {
			p.onDone()
		}
	}()
	select {
	case r := <-done:
		var be *BudgetError
		switch {
		case r.err != nil && errors.As(r.err, &be):
			return nil, be
		case r.err != nil && ctx.Err() != nil:
			return nil, &TimeoutError{Limit: limit, Deadline: byDeadline}
		}
		return r.out, r.err
	case <-ctx.Done():
		return nil, &TimeoutError{Limit: limit, Deadline: byDeadline}
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
}
