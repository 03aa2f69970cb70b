package respond

import (
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/notify"
)

// AlarmRunbook is the alert kind (topic) and runbook id respond gives a
// notification about the alarm, by what it measures (alarmKind). The
// monitoring runbook (infra/runbook) names each alarm's response
// procedure with it, so the document says what the messages say.
func AlarmRunbook(a contract.Alarm) (notify.Kind, string) { return alarmKind(a) }
