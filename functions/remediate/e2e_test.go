package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
	"github.com/postdeploy/postdeploy/pkg/devtools/lambdarun"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
	"github.com/postdeploy/postdeploy/pkg/state"
)

var db *dynalite.Shared

func TestMain(m *testing.M) {
	db = dynalite.StartShared(context.Background())
	code := m.Run()
	_ = db.Close()
	os.Exit(code)
}

// TestBootstrapEndToEnd runs the real bootstrap under the Lambda Runtime
// API harness against the AWS stand-in (ECS, EC2, CloudWatch, SNS over
// their real wire protocols) and dynalite (the state table): the
// remediation scenario of `make demo`. An ALARM on an opted-in ECS
// service triggers one forced deployment, verified, and a notification;
// the same delivery again does nothing; a new ALARM within the cooldown
// is skipped and notified with its reason; a service without the tag is
// never touched; in dry run no mutating API is called.
func TestBootstrapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dyn := db.Server(t)
	if err := state.CreateTable(ctx, dyn.Client(), "postdeploy-state-e2e"); err != nil {
		t.Fatal(err)
	}
	si, err := standin.New(standin.Scenario{
		ECSServices: []standin.ECSService{
			{Cluster: "prod", Name: "api", DesiredCount: 2, RunningCount: 2, Tags: map[string]string{"postdeploy:remediate": "true"}},
			{Cluster: "prod", Name: "billing", DesiredCount: 2, RunningCount: 2, Tags: map[string]string{"team": "billing"}},
		},
		Instances: []standin.Instance{{ID: "i-0a1b2c3d4e5f67890", Tags: map[string]string{"postdeploy:remediate": "true"}}},
		Alarms: []standin.Alarm{
			{Name: "prod-api-cpu-high", State: "ALARM", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"}},
			{Name: "prod-billing-cpu-high", State: "ALARM", Namespace: "AWS/ECS", MetricName: "CPUUtilization", Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "billing"}},
			{Name: "prod-worker-status-check", State: "ALARM", Namespace: "AWS/EC2", MetricName: "StatusCheckFailed_Instance", Dimensions: map[string]string{"InstanceId": "i-0a1b2c3d4e5f67890"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := si.Start(); err != nil {
		t.Fatal(err)
	}
	defer si.Close()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := lambdarun.Build(ctx, lambdarun.BuildConfig{Dir: filepath.Join(wd, "..", ".."), Out: t.TempDir(), Packages: []string{"./functions/remediate"}})
	if err != nil {
		t.Fatalf("build the bootstrap: %v", err)
	}
	env := append(si.Env(),
		"AWS_ENDPOINT_URL_DYNAMODB="+dyn.Endpoint,
		config.EnvStateTable+"=postdeploy-state-e2e",
		config.EnvRemediationPolicy+"=file:"+filepath.Join(wd, "testdata", "demo-policy.yaml"),
	)
	for k, arn := range topics() {
		env = append(env, config.TopicEnv(k)+"="+arn)
	}
	start := func(extra ...string) *lambdarun.Function {
		fn, err := lambdarun.Start(lambdarun.Config{Name: "remediate", Bootstrap: bins["remediate"], Timeout: 30 * time.Second, Env: append(env, extra...)})
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
	// Each file is stamped, on its first delivery, with the time the
	// stand-in's CloudWatch last changed its alarm's state — the
	// StateChangeTime CloudWatch writes — and redelivered as it was.
	stamped := map[string][]byte{}
	invoke := func(fn *lambdarun.Function, file string) {
		t.Helper()
		b, ok := stamped[file]
		if !ok {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", file))
			if err != nil {
				t.Fatal(err)
			}
			if b, err = si.StampAlarmNotifications(raw); err != nil {
				t.Fatal(err)
			}
			stamped[file] = b
		}
		res, err := fn.Invoke(ctx, b)
		if err != nil {
			t.Fatalf("Invoke(%s): %v", file, err)
		}
		if res.Err != nil {
			t.Fatalf("Invoke(%s) function error: %v\nlogs:\n%s", file, res.Err, res.Logs)
		}
	}

	fn := start()
	defer func() { _ = fn.Close() }()

	// The forced deployment fixes the service: the alarm returns to OK
	// shortly after it (CloudWatch's next evaluation).
	fixed := make(chan struct{})
	go func() {
		defer close(fixed)
		for ctx.Err() == nil {
			if len(si.CallsTo("ecs", "UpdateService")) > 0 {
				time.Sleep(1500 * time.Millisecond)
				_ = si.SetAlarmState("prod-api-cpu-high", "OK", "Threshold Crossed: back under 80%")
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	invoke(fn, "remediate-ecs-alarm.json")
	<-fixed
	invoke(fn, "remediate-ecs-alarm.json") // SNS redelivers: nothing more
	if err := si.SetAlarmState("prod-api-cpu-high", "ALARM", "Threshold Crossed: above 80% again"); err != nil {
		t.Fatal(err)
	}
	invoke(fn, "remediate-ecs-alarm-again.json") // within the cooldown
	invoke(fn, "remediate-ecs-untagged.json")    // not opted in

	updates := si.CallsTo("ecs", "UpdateService")
	if len(updates) != 1 {
		t.Fatalf("ECS UpdateService calls = %d; want exactly 1", len(updates))
	}
	if in := updates[0].Input; in["service"] != "api" || in["forceNewDeployment"] != true {
		t.Errorf("UpdateService input = %v; want a forced new deployment of api", in)
	}
	var got []string
	for _, p := range si.Published() {
		got = append(got, p.Attributes["kind"]+" "+p.Attributes["decision"]+" "+p.Attributes["alarm"])
	}
	want := []string{
		"high-cpu fixed prod-api-cpu-high",
		"high-cpu skipped prod-api-cpu-high",
		"high-cpu skipped prod-billing-cpu-high",
	}
	if !cmp.Equal(got, want) {
		t.Fatalf("published = %v; want %v", got, want)
	}
	pub := si.Published()
	if !strings.Contains(pub[1].Message, "cooldown: rule ecs-cpu-redeploy acted on ecs-service prod/api at") {
		t.Errorf("cooldown notification:\n%s\nwant the cooldown reason", pub[1].Message)
	}
	if !strings.Contains(pub[2].Message, `ecs-service prod/billing is not opted in: no tag "postdeploy:remediate"`) {
		t.Errorf("untagged notification:\n%s\nwant the opt-in reason", pub[2].Message)
	}

	// Dry run (the function's switch): decided and reported, nothing called.
	dry := start(config.EnvRemediateDryRun + "=true")
	defer func() { _ = dry.Close() }()
	invoke(dry, "remediate-ec2-status-check.json")
	if n := si.Reboots("i-0a1b2c3d4e5f67890"); n != 0 {
		t.Errorf("dry run rebooted the instance %d times; want 0", n)
	}
	last := si.Published()[len(si.Published())-1]
	if last.Attributes["decision"] != "dry-run" || !strings.Contains(last.Message, `ec2:RebootInstances {"InstanceIds":["i-0a1b2c3d4e5f67890"]}`) {
		t.Errorf("dry-run notification %v:\n%s\nwant the exact call it would make", last.Attributes, last.Message)
	}
}
