// Command triagebench measures respond's security path at scale through
// the real respond binary: one Security Hub event of 100 findings,
// handled one claim and one Publish after another
// (POSTDEPLOY_TRIAGE_CONCURRENCY=1, POSTDEPLOY_PUBLISH_BATCH=false), and
// concurrently with SNS PublishBatch (the defaults) without and with the
// vulnerability log (POSTDEPLOY_VULN_MANAGEMENT), in the same run,
// with every AWS call answered after a fixed delay (20 ms: the order of
// real AWS latency) — the stand-in's FaultLatency on every SNS call, and
// a proxy in front of dynalite adding the same delay to every DynamoDB
// call. It checks that both modes publish the same messages and claim
// each finding exactly once (a redelivery publishes nothing), and writes
// its figures to its own marked section of BENCHMARKS.md, which
// benchreport keeps when it rewrites the file.
//
// Usage:
//
//	go run ./pkg/devtools/triagebench [-runs 5] [-delay 20ms] [-findings 100] [-out BENCHMARKS.md]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	runs     int
	delay    time.Duration
	findings int
	out      string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("triagebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.runs, "runs", 5, "events per mode (each of fresh findings); the figure is the median")
	fs.DurationVar(&o.delay, "delay", 20*time.Millisecond, "delay before every AWS answer (SNS and DynamoDB)")
	fs.IntVar(&o.findings, "findings", 100, "findings in the event (Security Hub sends at most 100)")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "the report whose marked section is replaced, relative to the module root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.runs < 1 || o.findings < 1 || o.findings > 100 {
		fmt.Fprintln(stderr, "triagebench: want -runs ≥ 1 and 1 ≤ -findings ≤ 100")
		return 2
	}
	res, err := measure(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "triagebench:", err)
		return 1
	}
	root, err := lambdarun.ModuleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "triagebench:", err)
		return 1
	}
	path := o.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := writeSection(path, res.markdown()); err != nil {
		fmt.Fprintln(stderr, "triagebench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote the %q section of %s\n", SectionName, path)
	fmt.Fprint(stdout, res.markdown())
	if res.speedup() < 10 {
		fmt.Fprintf(stdout, "OVER TARGET: %.1f× faster; want ≥ 10×\n", res.speedup())
	}
	return 0
}

// mode is one way respond handles the event.
type mode struct {
	Name string
	Env  []string
}

var modes = []mode{
	{Name: "sequential: one claim, one Publish after another (the path before)", Env: []string{config.EnvTriageConcurrency + "=1", config.EnvPublishBatch + "=false", config.EnvVulnManagement + "=false"}},
	{Name: "concurrent (16 at a time) + PublishBatch", Env: []string{config.EnvTriageConcurrency + "=16", config.EnvPublishBatch + "=true", config.EnvVulnManagement + "=false"}},
	{Name: "concurrent + PublishBatch + vulnerability log (the production default)", Env: []string{config.EnvTriageConcurrency + "=16", config.EnvPublishBatch + "=true", config.EnvVulnManagement + "=true"}},
}

// modeResult is one mode's figures.
type modeResult struct {
	Mode       string
	Durations  []time.Duration // the handler's Duration, per event
	Published  int             // messages per event
	SNSCalls   int             // SNS calls per event
	DDBCalls   int             // DynamoDB calls per event
	Claims     int             // claim records per event's findings
	Redelivery int             // messages published when the last event is delivered again
	messages   [][]string      // per run: sorted subject+body
}

type result struct {
	opts     options
	started  time.Time
	took     time.Duration
	load     string
	modes    []modeResult
	same     bool
	sameNote string
}

func (r result) speedup() float64 { return r.speedupOf(1) }

// speedupOf is mode i's speed-up over the sequential mode.
func (r result) speedupOf(i int) float64 {
	a, b := median(r.modes[0].Durations), median(r.modes[i].Durations)
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func measure(ctx context.Context, o options, log io.Writer) (*result, error) {
	r := &result{opts: o, started: time.Now().UTC(), load: loadAverage()}
	root, err := lambdarun.ModuleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "triagebench-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	fmt.Fprintln(log, "building respond for this host")
	bins, err := lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: root, Out: dir, Packages: []string{"./functions/respond"}})
	if err != nil {
		return nil, err
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "events", "respond-securityhub-asff.json"))
	if err != nil {
		return nil, err
	}
	dyn, err := dynalite.Start(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = dyn.Close() }()
	var ddbCalls countingDelay
	ddbCalls.delay = o.delay
	target, _ := url.Parse(dyn.Endpoint)
	ddbCalls.next = httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(&ddbCalls)
	defer proxy.Close()

	runID := time.Now().UnixNano()
	for mi, m := range modes {
		table := fmt.Sprintf("triagebench-%d", mi)
		if err := state.CreateTable(ctx, dyn.Client(), table); err != nil {
			return nil, err
		}
		si, err := standin.New(standin.Scenario{})
		if err != nil {
			return nil, err
		}
		if err := si.Start(); err != nil {
			return nil, err
		}
		si.Inject(standin.SNS, "", standin.Fault{Kind: standin.FaultLatency, Delay: o.delay})
		env := append(append([]string{}, si.Env()...), "AWS_ENDPOINT_URL_DYNAMODB="+proxy.URL,
			config.EnvStateTable+"="+table, config.EnvRunbookBaseURL+"=https://runbooks.example.com/postdeploy")
		for _, k := range notify.Kinds {
			env = append(env, config.TopicEnv(k)+"=arn:aws:sns:"+standin.Region+":"+standin.AccountID+":postdeploy-"+string(k))
		}
		// Every finding of the event is distinct but of one control, so
		// the digest would fold them into one message: it is off here, to
		// measure 100 claims and 100 notifications. The vulnerability log
		// write of each finding stays on, as in production.
		env = append(env, config.EnvDigestThreshold+"=0")
		env = append(env, m.Env...)
		f, err := lambdarun.Start(lambdarun.Config{Name: "respond", Bootstrap: bins["respond"], Timeout: 2 * time.Minute, Env: env})
		if err != nil {
			si.Close()
			return nil, err
		}
		mr := modeResult{Mode: m.Name}
		// A warm-up event: the cold start and the first connections are
		// not what is measured.
		if _, _, err := invoke(ctx, f, tmpl, runID, -1, o.findings); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", m.Name, err)
		}
		var last []byte
		for i := range o.runs {
			fmt.Fprintf(log, "%s: event %d of %d\n", m.Name, i+1, o.runs)
			pub0, sns0, ddb0 := len(si.Published()), len(si.CallsTo(standin.SNS, "")), ddbCalls.n.Load()
			res, ev, err := invoke(ctx, f, tmpl, runID, i, o.findings)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.Name, err)
			}
			mr.Durations = append(mr.Durations, res.Duration)
			pubs := si.Published()[pub0:]
			mr.Published = len(pubs)
			mr.SNSCalls = len(si.CallsTo(standin.SNS, "")) - sns0
			mr.DDBCalls = int(ddbCalls.n.Load() - ddb0)
			var msgs []string
			for _, p := range pubs {
				msgs = append(msgs, p.Subject+"\n"+p.Message)
			}
			sort.Strings(msgs)
			mr.messages = append(mr.messages, msgs)
			last = ev
		}
		claims, err := countClaims(ctx, dyn.Client(), table)
		if err != nil {
			return nil, err
		}
		mr.Claims = claims / (o.runs + 1) // the warm-up's findings are claimed too
		pub0 := len(si.Published())
		res, err := f.Invoke(ctx, last)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return nil, fmt.Errorf("%s: redelivery: %w", m.Name, err)
		}
		mr.Redelivery = len(si.Published()) - pub0
		_ = f.Close()
		si.Close()
		r.modes = append(r.modes, mr)
	}
	r.same = true
	for _, m := range r.modes[1:] {
		for i := range o.runs {
			if !slices.Equal(r.modes[0].messages[i], m.messages[i]) {
				r.same = false
				r.sameNote = fmt.Sprintf("%s, event %d: %d vs %d messages, or different text", m.Mode, i, len(r.modes[0].messages[i]), len(m.messages[i]))
			}
		}
	}
	r.took = time.Since(r.started)
	r.load += " before, " + loadAverage() + " after"
	return r, nil
}

// invoke delivers event i of fresh findings and returns it with the
// result.
func invoke(ctx context.Context, f *lambdarun.Function, tmpl []byte, runID int64, i, n int) (*lambdarun.Result, []byte, error) {
	ev, err := event(tmpl, runID, i, n)
	if err != nil {
		return nil, nil, err
	}
	res, err := f.Invoke(ctx, ev)
	if err != nil {
		return nil, nil, err
	}
	if res.Err != nil {
		return nil, nil, fmt.Errorf("respond failed: %w\n%s", res.Err, res.Logs)
	}
	return res, ev, nil
}

// event is the sample Security Hub event with n distinct findings; the
// same (runID, i) gives the same findings, so both modes see the same
// event.
func event(tmpl []byte, runID int64, i, n int) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(tmpl, &ev); err != nil {
		return nil, err
	}
	detail, _ := ev["detail"].(map[string]any)
	fs, _ := detail["findings"].([]any)
	if len(fs) == 0 {
		return nil, fmt.Errorf("events/respond-securityhub-asff.json has no detail.findings")
	}
	base, _ := json.Marshal(fs[0])
	severities := []string{"CRITICAL", "HIGH", "HIGH", "MEDIUM", "MEDIUM", "MEDIUM", "LOW", "LOW", "LOW", "INFORMATIONAL"}
	batch := make([]any, 0, n)
	for j := range n {
		var fnd map[string]any
		_ = json.Unmarshal(base, &fnd)
		fnd["Id"] = fmt.Sprintf("arn:aws:securityhub:us-east-1:123456789012:security-control/S3.8/finding/triagebench-%d-%d-%03d", runID, i, j)
		sev := severities[j%len(severities)]
		fnd["Severity"] = map[string]any{"Label": sev, "Original": sev}
		fnd["Resources"] = []any{map[string]any{"Type": "AwsS3Bucket", "Id": fmt.Sprintf("arn:aws:s3:::triagebench-%d-%03d", i+1, j), "Partition": "aws", "Region": "us-east-1"}}
		batch = append(batch, fnd)
	}
	detail["findings"] = batch
	ev["id"] = fmt.Sprintf("triagebench-%d-%d", runID, i)
	return json.Marshal(ev)
}

// countClaims counts the claim records of the table (a Scan: this is a
// bench table of a few hundred items).
func countClaims(ctx context.Context, c *dynamodb.Client, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range out.Items {
			if pk, ok := it[state.AttrPK].(*ddbtypes.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "finding#") {
				n++
			}
		}
	}
	return n, nil
}

// countingDelay delays and counts every request before passing it on.
type countingDelay struct {
	delay time.Duration
	next  http.Handler
	n     atomic.Int64
}

func (c *countingDelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	select {
	case <-time.After(c.delay):
	case <-r.Context().Done():
		return
	}
	c.next.ServeHTTP(w, r)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
