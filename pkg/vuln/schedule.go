package vuln

// The scheduled runs' payload: EventBridge Scheduler invokes respond
// with an EventBridge-shaped event of this source and one of these
// detail types (infra/stack/vuln.go writes the schedules; respond routes
// them). The payload only says which run: the run reads everything from
// the state table, so a forged one can do no more than run it early, and
// its alerts still go out once per finding per day.
const (
	ScheduleSource   = "postdeploy.vuln"
	DetailTypeDaily  = "Vulnerability SLA Check"
	DetailTypeWeekly = "Vulnerability Status Report"
)
