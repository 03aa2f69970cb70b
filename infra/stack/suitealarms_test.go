package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// resolveJoin renders a string or an Fn::Join of strings and the
// pseudo parameters AWS::Partition, AWS::Region and AWS::AccountId (as
// aws, us-east-1, 123456789012); ok is false for anything else.
func resolveJoin(v any) (string, bool) {
	pseudo := map[string]string{"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
	switch v := v.(type) {
	case string:
		return v, true
	case map[string]any:
		if r, ok := v["Ref"].(string); ok {
			s, ok := pseudo[r]
			return s, ok
		}
		j, ok := v["Fn::Join"].([]any)
		if !ok || len(j) != 2 || j[0] != "" {
			return "", false
		}
		parts, _ := j[1].([]any)
		var b strings.Builder
		for _, p := range parts {
			s, ok := resolveJoin(p)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	}
	return "", false
}

// TestAlarmRuleLeavesOutTheSuitesOwnAlarms: respond's alarm rule on the
// default bus keeps out the suite's own alarms — which notify the
// escalation topic through their own alarm actions — with an
// anything-but prefix on the event's resources (the alarm's ARN: CloudWatch
// User Guide, "Alarm events and EventBridge"; EventBridge User Guide,
// "Comparison operators for use in event patterns in Amazon
// EventBridge", Anything-but (begins with)), while detail.alarmName keeps
// leaving out target tracking alarms. The prefix covers every alarm that
// notifies the escalation topic and none of the application's alarms;
// respond is told the same name prefix (POSTDEPLOY_SUITE_ALARM_PREFIX),
// to leave such an alarm to its actions should one reach it anyway.
func TestAlarmRuleLeavesOutTheSuitesOwnAlarms(t *testing.T) {
	var alarmRules []map[string]any
	for id, p := range resources(t, "AWS::Events::Rule") {
		pat, _ := p["EventPattern"].(map[string]any)
		if fmt.Sprint(pat["source"]) != fmt.Sprint([]any{contract.AlarmSource}) {
			continue
		}
		if p["EventBusName"] != nil {
			continue // the member bus: member accounts' alarms are not the suite's
		}
		t.Logf("alarm rule %s", id)
		alarmRules = append(alarmRules, pat)
	}
	if len(alarmRules) != 1 {
		t.Fatalf("found %d alarm state change rules on the default bus; want 1", len(alarmRules))
	}
	pat := alarmRules[0]
	b, _ := json.Marshal(pat)
	res, _ := pat["resources"].([]any)
	if len(res) != 1 {
		t.Fatalf("alarm rule pattern %s: resources = %v; want one anything-but prefix condition", b, pat["resources"])
	}
	ab, _ := res[0].(map[string]any)["anything-but"].(map[string]any)
	prefix, ok := resolveJoin(ab["prefix"])
	if !ok || len(ab) != 1 {
		t.Fatalf("alarm rule pattern %s: resources[0] = %v; want {\"anything-but\": {\"prefix\": <alarm ARN prefix>}}", b, res[0])
	}
	if want := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:Postdeploy-"; prefix != want {
		t.Errorf("alarm rule leaves out resources starting %q; want %q (this account's and region's alarms named Postdeploy-…)", prefix, want)
	}
	detail, _ := pat["detail"].(map[string]any)
	if got := fmt.Sprint(detail["alarmName"]); got != fmt.Sprint([]any{map[string]any{"anything-but": map[string]any{"prefix": TargetTrackingAlarmPrefix}}}) {
		t.Errorf("alarm rule detail.alarmName = %s; want the target tracking exclusion kept", got)
	}

	// Which alarms the prefix leaves out: exactly those that notify the
	// escalation topic (the suite's own), never the application's.
	esc := shared.ids["topic/"+string(notify.Escalation)]
	suite, app := 0, 0
	for id, p := range resources(t, "AWS::CloudWatch::Alarm") {
		name, _ := p["AlarmName"].(string)
		if name == "" {
			t.Errorf("alarm %s has no literal AlarmName", id)
			continue
		}
		actions, _ := json.Marshal(p["AlarmActions"])
		okActions, _ := json.Marshal(p["OKActions"])
		escalates := strings.Contains(string(actions), `"`+esc+`"`) && strings.Contains(string(okActions), `"`+esc+`"`)
		leftOut := strings.HasPrefix("arn:aws:cloudwatch:us-east-1:123456789012:alarm:"+name, prefix)
		switch {
		case escalates && !leftOut:
			t.Errorf("suite alarm %s notifies the escalation topic but respond's rule would deliver it too (a duplicate page)", name)
		case !escalates && leftOut:
			t.Errorf("alarm %s does not notify the escalation topic, yet respond's rule leaves it out: nobody would page it", name)
		case escalates:
			suite++
		default:
			app++
		}
	}
	if suite != 3*len(FunctionNames) || app == 0 {
		t.Errorf("checked %d suite alarms and %d others; want %d suite alarms (errors, throttles, dead letters of each function) and the application's", suite, app, 3*len(FunctionNames))
	}

	fns := resources(t, "AWS::Lambda::Function")
	env := fns[shared.ids[Respond]]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got, want := env[config.EnvSuiteAlarmPrefix], config.SuiteAlarmPrefix("Postdeploy"); got != want || !strings.HasSuffix(prefix, ":alarm:"+want) {
		t.Errorf("respond's %s = %v; want %q, the rule's alarm name prefix", config.EnvSuiteAlarmPrefix, got, want)
	}
	if _, ok := env[config.TopicEnv(notify.Escalation)]; !ok {
		t.Errorf("respond's environment has no %s: it cannot confirm a suite alarm's action", config.TopicEnv(notify.Escalation))
	}
}
