package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"
)

func TestEmitWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics("Postdeploy", &buf)
	m.Now = func() time.Time { return time.UnixMilli(1700000000123) }
	m.Emit(map[string]string{"Verdict": "Failed", "Empty": ""}, Value{Name: MetricVerifications, Unit: UnitCount, Value: 1})
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("EMF line is not JSON: %v: %s", err, buf.String())
	}
	want := map[string]any{
		"Verdict":       "Failed",
		"Verifications": 1.0,
		"_aws": map[string]any{
			"Timestamp": 1700000000123.0,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "Postdeploy",
				"Dimensions": []any{[]any{"Verdict"}},
				"Metrics":    []any{map[string]any{"Name": "Verifications", "Unit": "Count"}},
			}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EMF record (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(buf.String(), "}\n") || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("EMF output = %q; want exactly one line", buf.String())
	}
}

func TestEmitNilIsSafe(t *testing.T) {
	var m *Metrics
	m.Emit(nil, Value{Name: "x", Unit: UnitCount, Value: 1}) // must not panic
}

type fakeEvents struct {
	in  *eventbridge.PutEventsInput
	out *eventbridge.PutEventsOutput
	err error
}

var _ EventPutter = (*fakeEvents)(nil)

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.in = in
	return f.out, f.err
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name    string
		bus     string
		out     *eventbridge.PutEventsOutput
		err     error
		wantErr string
		wantPut bool
	}{
		{"sent", "ops", &eventbridge.PutEventsOutput{}, nil, "", true},
		{"disabled", "", nil, nil, "", false},
		{"call fails", "ops", nil, errors.New("throttled"), "throttled", true},
		{"entry rejected in a 200", "ops", &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []ebtypes.PutEventsResultEntry{{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("rate exceeded")}}}, nil, "entry rejected: ThrottlingException", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEvents{out: tt.out, err: tt.err}
			err := Events{API: f, Bus: tt.bus, Source: "postdeploy.verify"}.Publish(context.Background(), "Post-Deploy Verification Completed", map[string]string{"verdict": "Failed"})
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Publish error = %v; want %q", err, tt.wantErr)
			}
			if (f.in != nil) != tt.wantPut {
				t.Fatalf("PutEvents called = %t; want %t", f.in != nil, tt.wantPut)
			}
			if f.in != nil {
				e := f.in.Entries[0]
				if aws.ToString(e.Source) != "postdeploy.verify" || aws.ToString(e.EventBusName) != tt.bus || aws.ToString(e.Detail) != `{"verdict":"Failed"}` {
					t.Errorf("entry = %+v; want source, bus and JSON detail set", e)
				}
			}
		})
	}
}
