package remediate

import (
	"context"
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// Notifier sends one notification; notify.Router implements it.
type Notifier interface {
	Send(ctx context.Context, m notify.Message) (string, error)
}

var _ Notifier = notify.Router{}

// notifyAction touches no resource: it escalates the alarm to people, on
// the escalation topic unless the rule names another kind.
type notifyAction struct{ n Notifier }

func (notifyAction) Permissions() []string { return []string{"sns:Publish"} }

func (notifyAction) Params() []Param {
	return []Param{
		{Name: "kind", Doc: "the topic kind (default escalation)"},
		{Name: "message", Doc: "what to tell the people paged, e.g. 'Check {{.Dimensions.DBInstanceIdentifier}} storage'"},
	}
}

func (notifyAction) CheckParams(p Params) map[string]string {
	if k, ok := p["kind"]; ok && !isTemplate(k) && !validKind(k) {
		return map[string]string{"kind": fmt.Sprintf("unknown kind %q (valid: %s)", k, kindList())}
	}
	return nil
}

func (notifyAction) Targets(a Alarm, _ Params) ([]Target, error) {
	return []Target{{Type: "alarm", ID: a.Name}}, nil
}

func (notifyAction) OptedIn(context.Context, Target, Tag) (bool, string, error) {
	return true, "notify changes no resource", nil
}

func (notifyAction) Plan(_ context.Context, t Target, p Params) (Call, string, error) {
	kind := notify.Escalation
	if k := p["kind"]; k != "" {
		if !validKind(k) {
			return Call{}, "", fmt.Errorf("params.kind: unknown kind %q (valid: %s)", k, kindList())
		}
		kind = notify.Kind(k)
	}
	msg := p["message"]
	if msg == "" {
		msg = "No automatic fix is configured for this alarm: investigate it by hand."
	}
	return Call{
		API: "sns:Publish",
		Input: notify.Message{
			Kind: kind, Severity: "HIGH", Service: t.ID,
			Subject: "ESCALATION: alarm " + t.ID + " needs a person",
			Body:    "Alarm " + t.ID + " is in ALARM.\n\n" + msg,
		},
		Note: fmt.Sprintf("notify the %s topic about alarm %s", kind, t.ID),
	}, "", nil
}

func (a notifyAction) Do(ctx context.Context, c Call) (Result, error) {
	m, err := mustInput[notify.Message](c)
	if err != nil {
		return Result{}, err
	}
	if a.n == nil {
		return Result{}, fmt.Errorf("notify %s: no notifier configured", m.Kind)
	}
	id, err := a.n.Send(ctx, m)
	if err != nil {
		return Result{}, err
	}
	return Result{Summary: fmt.Sprintf("sent to the %s topic (message %s)", m.Kind, id), Ref: id}, nil
}

func validKind(k string) bool {
	for _, x := range notify.Kinds {
		if string(x) == k {
			return true
		}
	}
	return false
}

func kindList() string {
	s := ""
	for i, k := range notify.Kinds {
		if i > 0 {
			s += ", "
		}
		s += string(k)
	}
	return s
}
