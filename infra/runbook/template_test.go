package runbook

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// A template as `cdk synth` writes it: a dashboard body joined with a
// Ref, an alarm whose name joins the stack name, a topic by display name.
const sampleTemplate = `{"Resources": {
  "AlertsTopicAB12CD34": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "postdeploy Application Alerts"}},
  "FnA1B2C3D4": {"Type": "AWS::Lambda::Function", "Properties": {}},
  "ErrorsAlarm0A1B2C3D": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "AlarmName": {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-errors"]]},
    "AlarmDescription": "Errors  happened.",
    "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300,
    "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "FnA1B2C3D4"}}],
    "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 1, "EvaluationPeriods": 2,
    "AlarmActions": [{"Ref": "AlertsTopicAB12CD34"}], "OKActions": [{"Ref": "AlertsTopicAB12CD34"}]}},
  "Board1234ABCD": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
    "DashboardName": "Board",
    "DashboardBody": {"Fn::Join": ["", ["{\"widgets\":[{\"type\":\"text\",\"properties\":{\"markdown\":\"# Board\\nWhat it is for.\"}},{\"type\":\"metric\",\"properties\":{\"title\":\"Errors\",\"region\":\"", {"Ref": "AWS::Region"}, "\",\"metrics\":[[\"AWS/Lambda\",\"Errors\",\"FunctionName\",\"f\",{\"stat\":\"Sum\"}],[\".\",\"Throttles\",\".\",\".\"]],\"annotations\":{\"horizontal\":[{\"label\":\"limit\",\"value\":1}]}}},{\"type\":\"alarm\",\"properties\":{\"title\":\"Alarms\",\"alarms\":[\"", {"Fn::GetAtt": ["ErrorsAlarm0A1B2C3D", "Arn"]}, "\"]}}]}"]]}}}
}}`

func TestParseTemplate(t *testing.T) {
	got, err := ParseTemplate([]byte(sampleTemplate), "Shop")
	if err != nil {
		t.Fatalf("ParseTemplate: %v", err)
	}
	want := &Template{
		StackName: "Shop",
		Dashboards: []Dashboard{{
			Name: "Board", Purpose: "What it is for.",
			Widgets: []Widget{
				{Type: "metric", Title: "Errors",
					Metrics:     []string{"AWS/Lambda/Errors {FunctionName=f}, Sum", "AWS/Lambda/Throttles {FunctionName=f}, Average"},
					Annotations: []string{"limit at 1"}},
				{Type: "alarm", Title: "Alarms", Alarms: []string{"Shop-errors"}},
			},
		}},
		Alarms: []Alarm{{
			Name: "Shop-errors", Description: "Errors  happened.",
			Metric: "AWS/Lambda/Errors {FunctionName=${Fn}}", Statistic: "Sum", Period: 300,
			Comparison: "GreaterThanOrEqualToThreshold", Threshold: "1", EvaluationPeriods: 2, DatapointsToAlarm: 2,
			TreatMissingData: "missing",
			AlarmTopics:      []string{"postdeploy Application Alerts"}, OKTopics: []string{"postdeploy Application Alerts"},
			Metrics: []MetricName{{"AWS/Lambda", "Errors"}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseTemplate(sample) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseTemplateRejectsABadDashboardBody(t *testing.T) {
	bad := `{"Resources": {"B": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardName": "B", "DashboardBody": "{not json"}}}}`
	if _, err := ParseTemplate([]byte(bad), "S"); err == nil || !strings.Contains(err.Error(), "dashboard B") {
		t.Errorf("ParseTemplate(bad body) = %v; want an error naming dashboard B", err)
	}
}

func TestRenderNamesEveryPart(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(sampleTemplate), "Shop")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := remediate.ParsePolicy([]byte(`optInTag: {key: k, value: "true"}
rules:
  - name: scale
    description: add tasks
    match: {alarmName: "prod-*", dimensions: {ClusterName: "*", ServiceName: "*"}}
    action: ecs.scale
    params: {cluster: "{{.Dimensions.ClusterName}}", service: "{{.Dimensions.ServiceName}}", step: 1, min: 1, max: 3}
    cooldown: 10m
    runbook: high-cpu
`))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(Render(Input{Template: tmpl, Policy: pol, PolicyPath: "policy.yaml"}))
	for _, want := range []string{
		"### Board", "**Purpose:** What it is for.", "| Errors | line graph |", "line: limit at 1",
		"| Shop-errors | AWS/Lambda/Errors {FunctionName=${Fn}} | Sum over 5 min | ≥ 1 | 2 of 2 | missing | ALARM and OK → postdeploy Application Alerts | Application errors and latency (`application-errors`) |",
		"- **Shop-errors**: Errors happened.",
		"### High CPU (`high-cpu`)", "**First diagnostic steps:**", "**Escalation:**",
		"| scale | alarm name `prod-*`, dimensions `ClusterName=*` `ServiceName=*`, state ALARM |", "| 10 min |", "High CPU (`high-cpu`) |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("Render(sample) does not contain %q", want)
		}
	}
}
