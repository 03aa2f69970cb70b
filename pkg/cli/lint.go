package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/check/registry"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verify"
)

// Problem is one thing wrong in a spec file, where it is written.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Path is the field, e.g. checks[2].http.url; empty for the whole
	// document.
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String renders the problem as compilers do:
// FILE:LINE:COLUMN: PATH: MESSAGE (line and column when known).
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(":" + strconv.Itoa(p.Column))
		}
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// FileResult is lint's verdict on one file.
type FileResult struct {
	File  string `json:"file"`
	Valid bool   `json:"valid"`
	// Checks is how many checks the spec has (as far as it decoded).
	Checks   int       `json:"checks"`
	Problems []Problem `json:"problems"`
}

// LintReport is `postdeploy lint --format json`'s output, version 1: its
// fields are only ever added to.
type LintReport struct {
	Version int          `json:"version"`
	Valid   bool         `json:"valid"`
	Files   []FileResult `json:"files"`
}

// LintVersion is LintReport's format version.
const LintVersion = 1

func (a *App) lint(args []string) int {
	var (
		format    = "text"
		vs        = vars{}
		stdinName = "<stdin>"
	)
	files, code, ok := a.flags("lint", func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", format, "output format: text or json")
		fs.Var(vs, "var", "a variable the spec refers to as #{NAME}: NAME=VALUE (repeatable)")
		fs.StringVar(&stdinName, "stdin-name", stdinName, "the file name problems carry for a spec read from standard input (-), e.g. an editor's buffer")
	}, args)
	if !ok {
		return code
	}
	if format != "text" && format != "json" {
		fmt.Fprintf(a.Stderr, "postdeploy lint: --format must be text or json, got %q\n", format)
		return ExitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(a.Stderr, "postdeploy lint: name at least one spec file: postdeploy lint deploy/verify.yaml")
		return ExitUsage
	}
	rep := LintReport{Version: LintVersion, Valid: true}
	for _, f := range files {
		var (
			data []byte
			err  error
		)
		if f == "-" {
			f = stdinName
			data, err = readLimited(a.Stdin, f)
		} else {
			data, err = a.ReadFile(f)
		}
		if err != nil {
			fmt.Fprintf(a.Stderr, "postdeploy lint: %v\n", err)
			return ExitUsage
		}
		r := LintFile(f, data, vs)
		rep.Valid = rep.Valid && r.Valid
		rep.Files = append(rep.Files, r)
	}
	if format == "json" {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(a.Stderr, "postdeploy lint: write the report: %v\n", err)
			return ExitUsage
		}
	} else {
		writeLintText(a.Stdout, rep)
	}
	if !rep.Valid {
		return ExitProblems
	}
	return ExitOK
}

func writeLintText(w io.Writer, rep LintReport) {
	for _, f := range rep.Files {
		if f.Valid {
			fmt.Fprintf(w, "%s: ok (%s)\n", f.File, plural(f.Checks, "check"))
			continue
		}
		for _, p := range f.Problems {
			fmt.Fprintln(w, p.String())
		}
		fmt.Fprintf(w, "%s: %s\n", f.File, plural(len(f.Problems), "problem"))
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// LintFile validates one spec as strictly as verify does when it loads
// it: spec.ParseAll's problems, what only each check kind knows (its
// expression, rule names: registry.Build), and whether its state fits
// CodePipeline's continuation token (verify.CheckTokenFits), all in one
// round. Every problem carries the line and column of its field (or of
// the nearest parent written).
func LintFile(file string, data []byte, vars map[string]string) FileResult {
	s, errs := spec.ParseAll(data, vars)
	if !documentWrong(errs) {
		errs = append(errs, kindProblems(s, errs)...)
		errs = append(errs, verify.CheckTokenFits(s)...)
	}
	res := FileResult{File: file, Valid: len(errs) == 0, Checks: len(s.Checks), Problems: []Problem{}}
	var pos spec.Positions
	if len(errs) > 0 { // positions are only for problems
		pos = spec.Locate(data)
	}
	for _, e := range errs {
		p := Problem{File: file, Path: e.Path, Message: cliHint(e.Msg)}
		if e.Path == "" {
			p.Line = spec.ErrorLine(e.Msg)
		} else if at := pos.At(e.Path); !at.IsZero() {
			p.Line, p.Column = at.Line, at.Column
		}
		res.Problems = append(res.Problems, p)
	}
	// In the order they are written; ParseAll's path order breaks ties.
	sort.SliceStable(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	})
	return res
}

// kindProblems builds the samplers of every check that has a kind (with
// no AWS clients: building calls nothing) and returns what the kinds find
// (an expression that does not compile, an unknown rule), at the checks'
// own paths — for a check with parser problems too, less anything at or
// around a place the parser already reported. Should a kind not cope
// with a check the parser refused, only the checks with no problem are
// built.
func kindProblems(s spec.Spec, known spec.Errors) spec.Errors {
	bad := map[int]bool{}
	for _, e := range known {
		if i, ok := checkIndex(e.Path); ok {
			bad[i] = true
		}
	}
	errs, ok := buildChecks(s, func(int) bool { return true })
	if !ok {
		errs, _ = buildChecks(s, func(i int) bool { return !bad[i] })
	}
	out := make(spec.Errors, 0, len(errs))
	for _, e := range errs {
		if !near(e.Path, known) {
			out = append(out, e)
		}
	}
	return out
}

// documentWrong reports a problem with the whole document (not YAML, too
// large, empty): nothing more is worth checking.
func documentWrong(errs spec.Errors) bool {
	for _, e := range errs {
		if e.Path == "" {
			return true
		}
	}
	return false
}

// buildChecks builds the checks keep selects and returns the problems
// the kinds report, at the checks' paths in s; ok is false when a kind
// panicked.
func buildChecks(s spec.Spec, keep func(int) bool) (errs spec.Errors, ok bool) {
	defer func() {
		if recover() != nil {
			errs, ok = nil, false
		}
	}()
	sub := s
	sub.Checks = nil
	var origin []int
	for i, c := range s.Checks {
		if keep(i) && c.Kind() != "" {
			sub.Checks = append(sub.Checks, c)
			origin = append(origin, i)
		}
	}
	if len(sub.Checks) == 0 {
		return nil, true
	}
	_, err := registry.Build(sub, offlineClients())
	if err == nil {
		return nil, true
	}
	if !errors.As(err, &errs) {
		return spec.Errors{{Msg: err.Error()}}, true
	}
	out := make(spec.Errors, 0, len(errs))
	for _, e := range errs {
		if i, ok := checkIndex(e.Path); ok && i < len(origin) {
			e.Path = spec.Index("checks", origin[i]) + strings.TrimPrefix(e.Path, spec.Index("checks", i))
		}
		out = append(out, e)
	}
	return out, true
}

// near reports whether a problem at path repeats one the parser reported:
// at the same place, inside it, or around it.
func near(path string, known spec.Errors) bool {
	for _, k := range known {
		if path == k.Path || strings.HasPrefix(path, k.Path+".") || strings.HasPrefix(path, k.Path+"[") || strings.HasPrefix(k.Path, path+".") {
			return true
		}
	}
	return false
}

// checkIndex reads i from a path under checks[i].
func checkIndex(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "checks[")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil
}

// cliHint adds how to define a variable from the command line to the
// parser's message, which names the pipeline's way.
func cliHint(msg string) string {
	if strings.HasPrefix(msg, "unresolved variable #{") {
		return msg + "; with postdeploy, pass --var NAME=VALUE"
	}
	return msg
}

// ReadSpec reads a spec file, refusing one over spec.MaxSpecBytes
// without reading it all.
func ReadSpec(name string) ([]byte, error) {
	f, err := os.Open(name) //nolint:gosec // the file the user names is the point
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, name)
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, spec.MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > spec.MaxSpecBytes {
		return nil, fmt.Errorf("%s is over %d bytes (256 KiB), the limit of a spec: split it or drop unused checks", name, spec.MaxSpecBytes)
	}
	return data, nil
}
