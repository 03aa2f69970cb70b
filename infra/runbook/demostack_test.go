package runbook

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/postdeploy/postdeploy/infra/stack"
	"github.com/postdeploy/postdeploy/pkg/devtools/standin"
)

// The alert drill's local proof (make drill without STACK, and
// TestDrillLocalDemoStack) runs against the demo stack of
// pkg/devtools/demo/scenarios/drill.yaml. It proves something about the
// real stack only while it has the alarms the stack creates: each alarm
// of the synthesized stack (the example application's alarm set as
// "app", the suite's with the demo stack's name) must be in the demo
// stack, watching a metric the stack's alarm watches and notifying the
// same alert topic, and the demo stack has no other alarm.
func TestDemoDrillStackMirrorsTheStack(t *testing.T) {
	tmpl, _ := synthesized(t)
	tpl, err := ParseTemplate(tmpl, StackName)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := standin.LoadScenario(filepath.Join(root, "pkg", "devtools", "demo", "scenarios", "drill.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	demo := map[string]standin.Alarm{}
	for _, a := range sc.Alarms {
		demo[a.Name] = a
	}
	// Topic display names (stack) → the demo's topic names.
	topicOf := map[string]string{}
	for k, title := range stack.TopicTitles {
		topicOf["postdeploy "+title] = "postdeploy-" + string(k)
	}
	var want []string
	for _, a := range tpl.Alarms {
		name := a.Name
		if rest, ok := strings.CutPrefix(name, StackName+"-"); ok {
			name = "PostdeployDemo-" + rest
		}
		want = append(want, name)
		d, ok := demo[name]
		if !ok {
			t.Errorf("the stack's alarm %s has no counterpart %s in drill.yaml: add it", a.Name, name)
			continue
		}
		if !slices.Contains(a.Metrics, MetricName{d.Namespace, d.MetricName}) {
			t.Errorf("drill.yaml's %s watches %s/%s; the stack's %s watches %v", name, d.Namespace, d.MetricName, a.Name, a.Metrics)
		}
		var topics []string
		for _, tt := range a.AlarmTopics {
			topics = append(topics, topicOf[tt])
		}
		var got []string
		for _, arn := range d.Actions {
			got = append(got, arn[strings.LastIndex(arn, ":")+1:])
		}
		if strings.Join(got, ",") != strings.Join(topics, ",") {
			t.Errorf("drill.yaml's %s notifies %v; the stack's %s notifies %v", name, got, a.Name, topics)
		}
	}
	sort.Strings(want)
	var have []string
	for n := range demo {
		have = append(have, n)
	}
	sort.Strings(have)
	if strings.Join(have, " ") != strings.Join(want, " ") {
		t.Errorf("drill.yaml's alarms = %v; want exactly the stack's %v", have, want)
	}
}
