package remediate

import (
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/contract"
)

func templateAlarm() Alarm {
	return Alarm{
		Name: "prod-api-cpu-high", ARN: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-api-cpu-high",
		AccountID: "123456789012", Region: "us-east-1", NewState: contract.StateAlarm, OldState: contract.StateOK,
		Reason: "Threshold Crossed", Namespace: "AWS/ECS", MetricName: "CPUUtilization",
		Dimensions: map[string]string{"ClusterName": "prod", "ServiceName": "api"},
		Tags:       map[string]string{"team": "payments", "CodeDeployApplication": "app"},
		Rule:       `ALARM("a") OR ALARM("b")`,
	}
}

func TestRender(t *testing.T) {
	a := templateAlarm()
	tests := []struct {
		name, tmpl, want string
	}{
		{"literal", "live", "live"},
		{"name", "{{.Name}}", "prod-api-cpu-high"},
		{"arn", "{{.ARN}}", a.ARN},
		{"account and region", "{{.AccountID}}/{{.Region}}", "123456789012/us-east-1"},
		{"states", "{{.OldState}}->{{.NewState}}", "OK->ALARM"},
		{"reason", "{{.Reason}}", "Threshold Crossed"},
		{"metric", "{{.Namespace}} {{.MetricName}}", "AWS/ECS CPUUtilization"},
		{"composite rule", "{{.Rule}}", `ALARM("a") OR ALARM("b")`},
		{"dimension", "{{.Dimensions.ServiceName}}", "api"},
		{"dimensions with text", "arn:aws:ecs:{{.Region}}:{{.AccountID}}:service/{{.Dimensions.ClusterName}}/{{.Dimensions.ServiceName}}", "arn:aws:ecs:us-east-1:123456789012:service/prod/api"},
		{"tag", "{{.Tags.CodeDeployApplication}}", "app"},
		{"spaces in action", "{{ .Dimensions.ServiceName }}", "api"},
		{"trimmed", "  {{.Dimensions.ServiceName}}\n", "api"},
		{"trim markers", "x {{- .Dimensions.ServiceName -}} y", "xapiy"},
		{"comment dropped", "{{/* the service */}}{{.Dimensions.ServiceName}}", "api"},
		{"message", "{{.Name}} combines several alarms ({{.Rule}}).", `prod-api-cpu-high combines several alarms (ALARM("a") OR ALARM("b")).`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, built := range []bool{true, false} {
				r := &Rule{Name: "r", Params: map[string]string{"p": tt.tmpl}}
				if built {
					pt, err := parseParamTemplate("p", tt.tmpl)
					if err != nil {
						t.Fatalf("parseParamTemplate(%q) = %v; want no error", tt.tmpl, err)
					}
					r.params = map[string]*paramTemplate{"p": pt}
				}
				got, err := r.render(a)
				if err != nil || got["p"] != tt.want {
					t.Errorf("render(%q) (parsed at validation: %v) = %q, %v; want %q, nil", tt.tmpl, built, got["p"], err, tt.want)
				}
			}
		})
	}
}

func TestRenderFails(t *testing.T) {
	a := templateAlarm()
	a.Reason = "  "
	tests := []struct {
		name, tmpl, want string
	}{
		{"missing dimension", "{{.Dimensions.InstanceId}}", `params.p "{{.Dimensions.InstanceId}}": the alarm has no dimensions entry "InstanceId" (it has: ClusterName, ServiceName)`},
		{"missing tag", "{{.Tags.owner}}", `the alarm has no tags entry "owner" (it has: CodeDeployApplication, team)`},
		{"empty", "{{.Reason}}", `params.p "{{.Reason}}" is empty for alarm prod-api-cpu-high`},
		{"refused when not parsed at validation", "{{.Name | printf}}", "pipelines (|) are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rule{Name: "r", Params: map[string]string{"p": tt.tmpl}}
			got, err := r.render(a)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render(%q) = %v, %v; want an error containing %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
	a = templateAlarm()
	a.Tags = nil
	r := &Rule{Name: "r", Params: map[string]string{"p": "{{.Tags.team}}"}}
	if got, err := r.render(a); err == nil || !strings.Contains(err.Error(), `no tags entry "team" (it has: none)`) {
		t.Errorf("render with no tags = %v, %v; want an error naming the missing tag", got, err)
	}
}

func TestParseParamTemplateRefuses(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"pipeline", "{{.Name | printf \"%s\"}}", "pipelines (|) are not supported"},
		{"function", "{{printf \"%s\" .Name}}", "functions (printf) are not supported"},
		{"function alone", "{{now}}", "functions (now) are not supported"},
		{"index", "{{index .Dimensions \"a-b\"}}", "functions (index) are not supported"},
		{"if", "{{if .Name}}x{{end}}", "{{if}} is not supported"},
		{"range", "{{range .Dimensions}}x{{end}}", "{{range}} is not supported"},
		{"with", "{{with .Name}}{{.}}{{end}}", "{{with}} is not supported"},
		{"define", "{{define \"x\"}}y{{end}}", "{{define}} and {{block}} are not supported"},
		{"template", "{{template \"x\"}}", "{{template}} is not supported"},
		{"variable", "{{$x := .Name}}", "variables are not supported"},
		{"dot", "{{.}}", "the whole alarm cannot be a value"},
		{"literal action", "{{\"x\"}}", "only a field reference is supported"},
		{"unknown field", "{{.AlarmName}}", "the alarm has no field .AlarmName"},
		{"whole map", "{{.Dimensions}}", "name one entry, as .Dimensions.<key>"},
		{"too deep", "{{.Tags.a.b}}", "name one entry, as .Tags.<key>"},
		{"field of text", "{{.Name.First}}", ".Name is text and has no field .First"},
		{"method-like", "{{.Timestamp}}", "the alarm has no field .Timestamp"},
		{"unclosed", "{{.Name", "bad template:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseParamTemplate("p", tt.tmpl)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseParamTemplate(%q) = %v, %v; want an error containing %q", tt.tmpl, got, err, tt.want)
			}
			if !strings.HasPrefix(tt.want, "bad template") && !strings.Contains(err.Error(), "supported: literal text and {{.ARN}}") {
				t.Errorf("parseParamTemplate(%q) = %v; want the error to list the supported forms", tt.tmpl, err)
			}
		})
	}
}

func TestParsePolicyRefusesTemplateForms(t *testing.T) {
	_, err := ParsePolicy([]byte(`optInTag: {key: k}
rules:
  - name: r
    match: {namespace: AWS/ECS}
    action: ecs.redeploy
    params: {cluster: "{{.Dimensions.ClusterName | lower}}", service: "{{if .Name}}api{{end}}"}
`))
	for _, want := range []string{
		"rules[0].params.cluster: {{.Dimensions.ClusterName | lower}}: pipelines (|) are not supported; supported: literal text and",
		"rules[0].params.service: {{if}} is not supported; supported: literal text and",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy = %v; want a problem %q", err, want)
		}
	}
}

func FuzzParamTemplate(f *testing.F) {
	for _, s := range []string{"live", "{{.Dimensions.ServiceName}}", "{{.Name}}-{{.Tags.x}}", "{{if .Name}}{{end}}", "{{.Name | printf}}", "{{"} {
		f.Add(s)
	}
	a := templateAlarm()
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := parseParamTemplate("p", s)
		if !strings.Contains(s, "{{") {
			// Literal text is itself, whatever it holds.
			if got, xerr := pt.execute(a); err != nil || xerr != nil || got != s {
				t.Fatalf("parse and execute of literal %q = %q, %v, %v; want itself", s, got, err, xerr)
			}
			return
		}
		if err != nil {
			return
		}
		_, _ = pt.execute(a)
	})
}
