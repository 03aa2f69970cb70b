package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/vuln"
)

// fakeInspector answers ListFindings with one finding of the status set
// for its ARN (none when unset), and with activeOnImage findings for an
// image query.
type fakeInspector struct {
	status        map[string]i2types.FindingStatus
	activeOnImage int
}

func (f *fakeInspector) ListFindings(_ context.Context, in *inspector2.ListFindingsInput, _ ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	out := &inspector2.ListFindingsOutput{}
	if fc := in.FilterCriteria; fc != nil && len(fc.FindingArn) == 1 {
		if st, ok := f.status[aws.ToString(fc.FindingArn[0].Value)]; ok {
			out.Findings = []i2types.Finding{{FindingArn: fc.FindingArn[0].Value, Status: st}}
		}
		return out, nil
	}
	for range f.activeOnImage {
		out.Findings = append(out.Findings, i2types.Finding{Status: i2types.FindingStatusActive})
	}
	return out, nil
}

// fakeECR answers DescribeImageScanFindings with a COMPLETE scan of n
// findings.
type fakeECR struct{ n int }

func (f *fakeECR) DescribeImageScanFindings(context.Context, *ecr.DescribeImageScanFindingsInput, ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	out := &ecr.DescribeImageScanFindingsOutput{ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusComplete}, ImageScanFindings: &ecrtypes.ImageScanFindings{}}
	for range f.n {
		out.ImageScanFindings.Findings = append(out.ImageScanFindings.Findings, ecrtypes.ImageScanFinding{Name: aws.String("CVE-2026-0001")})
	}
	return out, nil
}

// fakeOpsCenter counts OpsItems created and resolved.
type fakeOpsCenter struct {
	mu       sync.Mutex
	created  int
	resolved int
	down     bool // CreateOpsItem fails, as OpsCenter unreachable
}

func (f *fakeOpsCenter) CreateOpsItem(context.Context, *ssm.CreateOpsItemInput, ...func(*ssm.Options)) (*ssm.CreateOpsItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("operation error SSM: CreateOpsItem: ServiceUnavailable")
	}
	f.created++
	return &ssm.CreateOpsItemOutput{OpsItemId: aws.String(fmt.Sprintf("oi-%012d", f.created))}, nil
}

func (f *fakeOpsCenter) UpdateOpsItem(_ context.Context, in *ssm.UpdateOpsItemInput, _ ...func(*ssm.Options)) (*ssm.UpdateOpsItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Status == ssmtypes.OpsItemStatusResolved {
		f.resolved++
	}
	return &ssm.UpdateOpsItemOutput{}, nil
}

type vulnRig struct {
	*rig
	ops   *fakeOpsCenter
	insp  *fakeInspector
	ecr   *fakeECR
	store *vuln.Store
}

func newVulnRig(t *testing.T, srv *dynalite.Server, n int) *vulnRig {
	t.Helper()
	table := fmt.Sprintf("respond-vuln-%d", n)
	if err := state.CreateTable(context.Background(), srv.Client(), table); err != nil {
		t.Fatal(err)
	}
	r := &vulnRig{rig: newRig(t), ops: &fakeOpsCenter{}, insp: &fakeInspector{status: map[string]i2types.FindingStatus{}}, ecr: &fakeECR{}}
	claims := state.New(srv.Client(), table)
	r.h.Claims = claims
	r.store = vuln.NewStore(srv.Client(), table)
	router := r.h.Notify.(notify.Router)
	router.Topics[vuln.KindReport] = "arn:aws:sns:us-east-1:123456789012:postdeploy-vuln-report"
	r.h.Vuln = &VulnManagement{
		Manager: vuln.New(vuln.Manager{Store: r.store, Claims: claims, Tickets: &vuln.OpsCenter{API: r.ops}, TicketMin: triage.P2,
			Notify: router, Metrics: r.h.Metrics, Now: func() time.Time { return testNow }, DigestThreshold: 3}),
		Inspector: r.insp, ECR: r.ecr,
	}
	return r
}

func withDetail(t *testing.T, name string, edit func(d map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev["detail"].(map[string]any))
	b, _ := json.Marshal(ev)
	return b
}

func (r *vulnRig) open(t *testing.T) (open, resolved int) {
	t.Helper()
	recs, err := r.store.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		switch rec.Status {
		case vuln.StatusOpen:
			open++
		case vuln.StatusResolved:
			resolved++
		}
	}
	return open, resolved
}

// TestVulnResolutionPaths: how a finding is resolved, each path
// confirmed with the service that owns the finding.
func TestVulnResolutionPaths(t *testing.T) {
	srv := dynalite.StartT(t)
	const inspectorARN = "arn:aws:inspector2:us-east-1:123456789012:finding/0e436649379db5b0d6b1c5a3a7f6c5d2"
	closedInspector := withDetail(t, "respond-inspector-finding.json", func(d map[string]any) { d["status"] = "CLOSED" })

	t.Run("Inspector2 finding opens a ticket; its CLOSED event resolves it once Inspector2 confirms", func(t *testing.T) {
		r := newVulnRig(t, srv, 1)
		if err := r.invoke(t, readEvent(t, "respond-inspector-finding.json")); err != nil {
			t.Fatalf("Invoke(active) = %v", err)
		}
		if r.ops.created != 1 || len(r.sns.in) != 1 {
			t.Fatalf("OpsItems %d, notifications %d; want 1, 1", r.ops.created, len(r.sns.in))
		}
		r.insp.status[inspectorARN] = i2types.FindingStatusActive
		if err := r.invoke(t, closedInspector); err != nil {
			t.Fatalf("Invoke(closed, Inspector2 says ACTIVE) = %v", err)
		}
		if open, _ := r.open(t); open != 1 {
			t.Errorf("after a CLOSED event Inspector2 does not confirm: %d open; want 1", open)
		}
		r.insp.status[inspectorARN] = i2types.FindingStatusClosed
		if err := r.invoke(t, closedInspector); err != nil {
			t.Fatalf("Invoke(closed) = %v", err)
		}
		if open, resolved := r.open(t); open != 0 || resolved != 1 || r.ops.resolved != 1 {
			t.Errorf("open %d, resolved %d, OpsItems resolved %d; want 0, 1, 1", open, resolved, r.ops.resolved)
		}
		if got := r.metric(telemetry.MetricRemediatedWithinSLA, "Priority", "P1"); got != 1 {
			t.Errorf("RemediatedWithinSLA{P1} = %v; want 1", got)
		}
	})

	t.Run("Security Hub Workflow.Status RESOLVED and RecordState ARCHIVED resolve", func(t *testing.T) {
		for i, edit := range []func(f map[string]any){
			func(f map[string]any) { f["Workflow"] = map[string]any{"Status": "RESOLVED"} },
			func(f map[string]any) { f["RecordState"] = "ARCHIVED" },
		} {
			r := newVulnRig(t, srv, 10+i)
			if err := r.invoke(t, readEvent(t, "respond-securityhub-asff.json")); err != nil {
				t.Fatal(err)
			}
			resolvedEv := withDetail(t, "respond-securityhub-asff.json", func(d map[string]any) { edit(d["findings"].([]any)[0].(map[string]any)) })
			if err := r.invoke(t, resolvedEv); err != nil {
				t.Fatal(err)
			}
			if open, resolved := r.open(t); open != 0 || resolved != 1 {
				t.Errorf("case %d: open %d, resolved %d; want 0, 1", i, open, resolved)
			}
		}
	})

	t.Run("clean ECR re-scan resolves the image's findings once ECR confirms", func(t *testing.T) {
		r := newVulnRig(t, srv, 20)
		if err := r.invoke(t, readEvent(t, "respond-ecr-scan.json")); err != nil {
			t.Fatal(err)
		}
		clean := withDetail(t, "respond-ecr-scan.json", func(d map[string]any) { d["finding-severity-counts"] = map[string]any{} })
		r.ecr.n = 3
		if err := r.invoke(t, clean); err != nil {
			t.Fatal(err)
		}
		if open, _ := r.open(t); open != 1 {
			t.Errorf("ECR still lists findings: %d open; want 1", open)
		}
		r.ecr.n = 0
		if err := r.invoke(t, clean); err != nil {
			t.Fatal(err)
		}
		if open, resolved := r.open(t); open != 0 || resolved != 1 {
			t.Errorf("clean re-scan: open %d, resolved %d; want 0, 1", open, resolved)
		}
	})

	t.Run("malformed resolution event counted and dropped", func(t *testing.T) {
		r := newVulnRig(t, srv, 30)
		bad := withDetail(t, "respond-inspector-finding.json", func(d map[string]any) { d["status"] = "CLOSED"; delete(d, "findingArn") })
		if err := r.invoke(t, bad); err != nil {
			t.Fatalf("Invoke = %v; want nil (dropped)", err)
		}
		if got := r.metric(telemetry.MetricEventsMalformed, "Source", "aws.inspector2"); got != 1 {
			t.Errorf("EventsMalformed{aws.inspector2} = %v; want 1", got)
		}
		if len(r.logLines("malformed event dropped")) != 1 {
			t.Errorf("want one log line for the dropped event")
		}
	})
}

// TestVulnDigestThroughHandler: one Security Hub event of five findings
// of one control on five buckets, threshold 3: two notified one by one,
// then one digest naming every bucket, not five messages.
func TestVulnDigestThroughHandler(t *testing.T) {
	srv := dynalite.StartT(t)
	r := newVulnRig(t, srv, 40)
	ev := manyFindings(t, 5)
	var e map[string]any
	_ = json.Unmarshal(ev, &e)
	for _, f := range e["detail"].(map[string]any)["findings"].([]any) {
		f.(map[string]any)["Title"] = "S3 general purpose buckets should block public access"
	}
	ev, _ = json.Marshal(e)
	if err := r.invoke(t, ev); err != nil {
		t.Fatal(err)
	}
	var digests, singles int
	for _, in := range r.sns.in {
		if strings.Contains(aws.ToString(in.Subject), "Digest") {
			digests++
			if n := strings.Count(aws.ToString(in.Message), "Resource: arn:aws:s3:::bucket-"); n != 5 {
				t.Errorf("the digest names %d buckets; want all 5", n)
			}
		} else {
			singles++
		}
	}
	if digests != 1 || singles != 2 {
		t.Errorf("messages: %d digests, %d single; want 1 and 2", digests, singles)
	}
}

// TestVulnScheduledRuns: the Scheduler payloads route to the daily SLA
// check and the weekly report (published to the report topic).
func TestVulnScheduledRuns(t *testing.T) {
	srv := dynalite.StartT(t)
	r := newVulnRig(t, srv, 50)
	if err := r.invoke(t, readEvent(t, "respond-inspector-finding.json")); err != nil {
		t.Fatal(err)
	}
	daily := []byte(`{"version":"0","id":"sched-1","source":"postdeploy.vuln","detail-type":"Vulnerability SLA Check","time":"2026-12-05T06:00:00Z","detail":{}}`)
	weekly := []byte(`{"version":"0","id":"sched-2","source":"postdeploy.vuln","detail-type":"Vulnerability Status Report","time":"2026-12-07T08:00:00Z","detail":{}}`)
	if err := r.invoke(t, daily); err != nil {
		t.Fatalf("daily = %v", err)
	}
	if err := r.invoke(t, weekly); err != nil {
		t.Fatalf("weekly = %v", err)
	}
	last := r.sns.in[len(r.sns.in)-1]
	if !strings.HasSuffix(aws.ToString(last.TopicArn), "postdeploy-vuln-report") || !strings.Contains(aws.ToString(last.Message), "OPEN FINDINGS: 1") {
		t.Errorf("weekly report to %s:\n%s\nwant the report topic and one open finding", aws.ToString(last.TopicArn), aws.ToString(last.Message))
	}
	if got := r.metric(telemetry.MetricEventsHandled, "Kind", kindSchedule); got != 2 {
		t.Errorf("EventsHandled{Kind=schedule} = %v; want 2", got)
	}
}

// TestVulnTicketFailureStillNotifies: OpsCenter down — the finding is
// still notified, the failure counted (TicketFailures) and the daily run
// opens the ticket once OpsCenter is back.
func TestVulnTicketFailureStillNotifies(t *testing.T) {
	srv := dynalite.StartT(t)
	r := newVulnRig(t, srv, 60)
	r.ops.down = true
	if err := r.invoke(t, readEvent(t, "respond-inspector-finding.json")); err != nil {
		t.Fatalf("Invoke = %v; want nil (a ticket failure never fails the event)", err)
	}
	if len(r.sns.in) != 1 {
		t.Errorf("notifications = %d; want 1 despite OpsCenter down", len(r.sns.in))
	}
	if got := r.metric(telemetry.MetricTicketFailures, "Operation", "open"); got != 1 {
		t.Errorf("TicketFailures{Operation=open} = %v; want 1", got)
	}
	r.ops.down = false
	daily := []byte(`{"version":"0","id":"sched-1","source":"postdeploy.vuln","detail-type":"Vulnerability SLA Check","time":"2026-12-05T06:00:00Z","detail":{}}`)
	if err := r.invoke(t, daily); err != nil {
		t.Fatalf("daily = %v", err)
	}
	if r.ops.created != 1 {
		t.Errorf("OpsItems after the daily run = %d; want 1", r.ops.created)
	}
}

// downTable is a state table that fails every call, as DynamoDB
// unreachable does.
type downTable struct{}

var errTableDown = errors.New("operation error DynamoDB: connection refused")

func (downTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errTableDown
}

func (downTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errTableDown
}

func (downTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errTableDown
}

func (downTable) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errTableDown
}

func (downTable) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, errTableDown
}

var _ state.API = downTable{}

// FuzzVulnEvents feeds arbitrary details of the security and resolution
// events to respond with vulnerability management on (its table down, so
// every path runs to its failure branch): it never panics, and a
// security event never fails the invocation when SNS did not fail —
// the log and tickets never stop a notification.
func FuzzVulnEvents(f *testing.F) {
	for _, seed := range []struct{ file string }{
		{"respond-inspector-finding.json"}, {"respond-ecr-scan.json"}, {"respond-inspector-scan.json"}, {"respond-securityhub-asff.json"},
	} {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(readEvent(f, seed.file), &ev); err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Source, ev.DetailType, []byte(ev.Detail))
	}
	f.Add("aws.inspector2", "Inspector2 Finding", []byte(`{"findingArn":"arn:aws:inspector2:us-east-1:123456789012:finding/x","status":"CLOSED","severity":"HIGH","title":"t","resources":[{"id":"r","type":"AWS_EC2_INSTANCE"}]}`))
	f.Add("aws.ecr", "ECR Image Scan", []byte(`{"scan-status":"COMPLETE","repository-name":"api","image-digest":"sha256:1","finding-severity-counts":{}}`))
	f.Add("aws.inspector2", "Inspector2 Scan", []byte(`{"scan-status":"INITIAL_SCAN_COMPLETE","repository-name":"arn:aws:ecr:us-east-1:123456789012:repository/api","image-digest":"sha256:1","finding-severity-counts":{"TOTAL":0}}`))
	f.Fuzz(func(t *testing.T, source, detailType string, detail []byte) {
		r := newRig(t)
		r.h.Vuln = &VulnManagement{
			Manager:   vuln.New(vuln.Manager{Store: vuln.NewStore(downTable{}, "t"), Tickets: &vuln.OpsCenter{API: &fakeOpsCenter{}}, Notify: r.h.Notify, Metrics: r.h.Metrics, DigestThreshold: 2}),
			Inspector: &fakeInspector{status: map[string]i2types.FindingStatus{"arn:aws:inspector2:us-east-1:123456789012:finding/x": i2types.FindingStatusClosed}},
			ECR:       &fakeECR{},
		}
		ev := events.EventBridgeEvent{ID: "fuzz", Source: source, DetailType: detailType, Region: "us-east-1", Detail: detail}
		if !json.Valid(detail) {
			ev.Detail = nil
		}
		err := r.h.HandleEvent(context.Background(), ev)
		if triage.IsSecurity(source, detailType) && err != nil {
			t.Fatalf("HandleEvent(%s %s) = %v; want nil (SNS did not fail; a table down never stops a notification)", source, detailType, err)
		}
	})
}

// TestVulnDailyConfirmsWithInspectorBeforeAlerting: the daily run asks
// Inspector2 about an overdue Inspector2 finding first; one Inspector2
// reports CLOSED (its CLOSED event was lost) is resolved, not alerted;
// one still ACTIVE gets its breach alert.
func TestVulnDailyConfirmsWithInspectorBeforeAlerting(t *testing.T) {
	srv := dynalite.StartT(t)
	const arn = "arn:aws:inspector2:us-east-1:123456789012:finding/0e436649379db5b0d6b1c5a3a7f6c5d2"
	daily := []byte(`{"version":"0","id":"sched-1","source":"postdeploy.vuln","detail-type":"Vulnerability SLA Check","time":"2026-11-25T06:00:00Z","detail":{}}`)
	for i, tc := range []struct {
		status      i2types.FindingStatus
		wantAlerts  int
		wantOpen    int
		description string
	}{
		{i2types.FindingStatusClosed, 0, 0, "closed at Inspector2: resolved"},
		{i2types.FindingStatusActive, 1, 1, "active at Inspector2: alerted"},
	} {
		r := newVulnRig(t, srv, 70+i)
		r.h.Vuln.Manager.StillOpen = r.h.Vuln.StillOpen
		if err := r.invoke(t, readEvent(t, "respond-inspector-finding.json")); err != nil {
			t.Fatal(err)
		}
		before := len(r.sns.in)
		r.insp.status[arn] = tc.status
		r.h.Vuln.Manager.Now = func() time.Time { return testNow.Add(72 * time.Hour) }
		if err := r.invoke(t, daily); err != nil {
			t.Fatalf("%s: daily = %v", tc.description, err)
		}
		open, _ := r.open(t)
		if got := len(r.sns.in) - before; got != tc.wantAlerts || open != tc.wantOpen {
			t.Errorf("%s: %d alerts, %d open; want %d, %d", tc.description, got, open, tc.wantAlerts, tc.wantOpen)
		}
	}
}
