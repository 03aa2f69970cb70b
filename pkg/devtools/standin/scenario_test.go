package standin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func TestLoadScenarioFile(t *testing.T) {
	sc, err := LoadScenario("testdata/scenario.yaml")
	if err != nil {
		t.Fatalf("LoadScenario: %v", err)
	}
	s := startServer(t, sc)
	cfg := awsConfig(t, s)
	ctx := ctxT(t)

	det, err := codepipeline.NewFromConfig(cfg).GetJobDetails(ctx, &codepipeline.GetJobDetailsInput{JobId: aws.String("11111111-2222-3333-4444-555555555555")})
	if err != nil {
		t.Fatalf("GetJobDetails: %v", err)
	}
	loc := det.JobDetails.Data.InputArtifacts[0].Location.S3Location
	obj, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx, &s3.GetObjectInput{Bucket: loc.BucketName, Key: loc.ObjectKey})
	if err != nil {
		t.Fatalf("GetObject(the job's input artifact): %v", err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if len(b) < 4 || string(b[:2]) != "PK" {
		t.Errorf("input artifact is not a zip: % x", b[:min(len(b), 8)])
	}

	md, err := cloudwatch.NewFromConfig(cfg).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(testNow.Add(-2 * time.Minute)), EndTime: aws.Time(testNow.Add(4 * time.Minute)),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{
			statQuery("errors", "Errors", "Sum", false), statQuery("requests", "Requests", "Sum", false),
			{Id: aws.String("rate"), Expression: aws.String("100*errors/requests")},
		}})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if p, err := codepipeline.NewFromConfig(cfg).GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("api")}); err != nil || len(p.Pipeline.Stages[0].Actions) != 2 {
		t.Errorf("GetPipeline(api) from the file = %v, %v; want a Deploy stage with 2 actions", p, err)
	}
	if tags, err := cloudwatch.NewFromConfig(cfg).ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmArn("prod-api-5xx"))}); err != nil || len(tags.Tags) != 1 {
		t.Errorf("ListTagsForResource(prod-api-5xx) from the file = %v, %v; want one tag", tags, err)
	}
	// The step generator turns errors on 2m after server creation.
	if got, want := fmt.Sprint(md.MetricDataResults[0].Values), "[0 0 0 0 6 6]"; got != want {
		t.Errorf("error rate around the step = %s; want %s", got, want)
	}
}

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field", "alarms: [{name: a, stat: ALARM}]", []string{`unknown field "stat"`}},
		{"every problem reported", `
alarms: [{name: a, state: RED}, {name: a}]
metrics: [{namespace: N, metricName: M, generator: {kind: sine}}]
autoScalingGroups: [{name: g, min: 2, max: 3, desired: 5}]
objects: [{bucket: b, key: k, body: x, file: y}]`, []string{
			`alarms[0].state: "RED" is not one of OK, ALARM, INSUFFICIENT_DATA`,
			`alarms[1].name: "a" is listed twice`,
			`metrics[0].generator.kind: "sine" is not one of constant, step, ramp`,
			`autoScalingGroups[0].desired: 5 is outside min 2 .. max 3`,
			`objects[0]: give only one of body, bodyBase64, file, zip`,
		}},
		{"bad duration", "alarms: [{name: a, since: soon}]", []string{`duration "soon"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tc.doc))
			if err == nil {
				t.Fatalf("ParseScenario(%q) = nil error; want %q", tc.doc, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseScenario(%s) error\n%v\nlacks %q", tc.name, err, w)
				}
			}
		})
	}
	if _, err := New(Scenario{Objects: []Object{{Bucket: "b", Key: "k", File: "testdata/missing.zip"}}}); err == nil || !strings.Contains(err.Error(), "objects[0]") {
		t.Errorf("New(object from a missing file) error = %v; want one naming objects[0]", err)
	}
}

// FuzzParseScenario: scenario files are user input; never panic.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte("alarms: [{name: a, state: ALARM, since: 5m}]"))
	f.Add([]byte(`{"metrics":[{"namespace":"N","metricName":"M","generator":{"kind":"ramp","over":"1h"}}]}`))
	f.Add([]byte("objects: [{bucket: b, key: k, bodyBase64: '!!'}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := ParseScenario(b)
		if err != nil {
			return
		}
		hasFile := false
		for _, o := range sc.Objects {
			hasFile = hasFile || o.File != ""
		}
		if _, err := New(sc); err != nil && !hasFile {
			t.Errorf("ParseScenario accepted a scenario that New refuses: %v", err)
		}
	})
}

// Example starts the stand-in, points a real SDK client at it and reads
// back what the client did.
func Example() {
	s, err := New(Scenario{Alarms: []Alarm{{Name: "prod-api-5xx", State: "ALARM", Reason: "5xx above 5"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// A child process would get s.Env(); in-process, set the endpoint.
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(Region), config.WithBaseEndpoint(s.URL()),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("standin", "standin", "")))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("prod-")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range out.MetricAlarms {
		fmt.Println(aws.ToString(a.AlarmName), a.StateValue, aws.ToString(a.StateReason))
	}
	for _, c := range s.Calls() {
		fmt.Println(c.Service, c.Operation, c.Protocol)
	}
	// Output:
	// prod-api-5xx ALARM 5xx above 5
	// cloudwatch DescribeAlarms rpcv2Cbor
}

// TestEnv: a process given only Env() reaches the stand-in with the SDK's
// default config chain (no options at all).
func TestEnv(t *testing.T) {
	s := startServer(t, Scenario{Parameters: []Parameter{{Name: "p", Value: "v"}}})
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(ctxT(t))
	if err != nil {
		t.Fatalf("LoadDefaultConfig with Env(): %v", err)
	}
	if cfg.Region != Region || aws.ToString(cfg.BaseEndpoint) != s.URL() {
		t.Errorf("config from Env() = region %q endpoint %q; want %q %q", cfg.Region, aws.ToString(cfg.BaseEndpoint), Region, s.URL())
	}
	out, err := ssm.NewFromConfig(cfg).GetParameter(ctxT(t), &ssm.GetParameterInput{Name: aws.String("p")})
	if err != nil || aws.ToString(out.Parameter.Value) != "v" {
		t.Errorf("GetParameter(p) through Env() = %v, %v; want v", out, err)
	}
}
