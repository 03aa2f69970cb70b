package notify

import "strings"

// Runbook is the response procedure for one type of alert: what it means,
// the first diagnostic steps, when to escalate, and the usual fixes (the
// "Alert Response Procedures" of the monitoring runbook).
type Runbook struct {
	ID string
	// Title names the alert type for a person (the monitoring runbook's
	// heading).
	Title       string
	Means       string
	Diagnose    []string
	Escalation  string
	Remediation []string
}

// The runbook ids.
const (
	RunbookHighCPU        = "high-cpu"
	RunbookApplication    = "application-errors"
	RunbookInfrastructure = "infrastructure"
	RunbookStorage        = "storage"
	RunbookInstanceHealth = "instance-health"
	RunbookMemory         = "memory"
	RunbookAlarm          = "alarm"
	RunbookSecurityAlarm  = "security-activity"
	RunbookPipeline       = "pipeline-failure"
	RunbookBuild          = "build-failure"
	RunbookDeployment     = "deployment-failure"
	RunbookVerification   = "verification-failure"
	RunbookVulnerability  = "vulnerability"
	RunbookThreat         = "threat-detection"
	RunbookCompliance     = "compliance"
)

// RunbookIDs lists the runbooks in the order the monitoring runbook
// presents them: the alarm families first, then pipeline and security
// events.
var RunbookIDs = []string{
	RunbookHighCPU, RunbookApplication, RunbookInfrastructure, RunbookStorage, RunbookInstanceHealth,
	RunbookMemory, RunbookSecurityAlarm, RunbookAlarm, RunbookPipeline, RunbookBuild, RunbookDeployment,
	RunbookVerification, RunbookVulnerability, RunbookThreat, RunbookCompliance,
}

// Runbooks are the response procedures by id.
var Runbooks = map[string]Runbook{
	RunbookHighCPU: {
		ID:    RunbookHighCPU,
		Title: "High CPU",
		Means: "CPU utilisation stayed above its threshold (80% for 5 minutes by default): requests queue and latency rises.",
		Diagnose: []string{
			"Open the alarm's metric and compare CPU with request count: load growth or a runaway process?",
			"Check recent deployments (CodePipeline history): did CPU step up at a release?",
			"On the hottest instance or task, look at the top processes (SSM Session Manager) and the application logs.",
		},
		Escalation:  "If latency or error alarms fire too, or CPU stays above 95% for 15 minutes, page the service's on-call.",
		Remediation: []string{"Scale out (raise the Auto Scaling group's or ECS service's desired count)", "Roll back a release that raised CPU", "Right-size the instance type if load has grown for good"},
	},
	RunbookApplication: {
		ID:    RunbookApplication,
		Title: "Application errors and latency",
		Means: "The application's error rate or latency crossed its threshold (5xx responses above 5% of requests for 5 minutes by default): users are seeing failures or slow responses.",
		Diagnose: []string{
			"Open the application log group in CloudWatch Logs Insights and group errors by message for the alarm window.",
			"Check whether a deployment finished just before the alarm (CodePipeline / CodeDeploy history).",
			"Check dependencies: database connections, downstream APIs, throttling metrics.",
		},
		Escalation:  "Page the service's on-call if errors exceed 10% or the alarm lasts 15 minutes; involve the owning team of a failing dependency.",
		Remediation: []string{"Roll back the latest release", "Restart unhealthy tasks or instances", "Fail over or shed load from a failing dependency"},
	},
	RunbookInfrastructure: {
		ID:    RunbookInfrastructure,
		Title: "Infrastructure health",
		Means: "An infrastructure resource is unhealthy or running short of capacity: the alarm's metric below says which (storage, memory, instance health).",
		Diagnose: []string{
			"Open the alarm's metric to see how fast it is changing and since when.",
			"Check the resource's health in its console (EC2 status checks, RDS events, Auto Scaling activity).",
			"Check recent changes: deployments, configuration, traffic.",
		},
		Escalation:  "Escalate to the platform on-call if the resource will fail or be exhausted within 2 hours.",
		Remediation: []string{"Replace the unhealthy resource", "Add capacity", "Roll back the change that caused it"},
	},
	RunbookStorage: {
		ID:    RunbookStorage,
		Title: "Low storage",
		Means: "Storage is running out: free disk or storage space is below its threshold (20% free for 30 minutes by default), or a volume's I/O burst credits are running low.",
		Diagnose: []string{
			"Open the alarm's metric to see how fast it is changing and when it will run out.",
			"Find what is growing: logs, temporary files, database tables, snapshots.",
			"For burst credits, compare the volume's I/O with its baseline (gp2 size, RDS storage type).",
		},
		Escalation:  "Escalate to the platform on-call if the storage will be exhausted within 2 hours.",
		Remediation: []string{"Grow the volume or storage", "Rotate or expire old data and logs", "Move a volume that exhausts its burst credits to gp3 or provisioned IOPS"},
	},
	RunbookInstanceHealth: {
		ID:    RunbookInstanceHealth,
		Title: "EC2 instance health",
		Means: "An EC2 instance is failing its status checks: its operating system or network configuration (instance check), or the AWS host under it (system check), is impaired.",
		Diagnose: []string{
			"In the EC2 console, see which check fails: instance status or system status.",
			"Read the instance's system log and screenshot (EC2 console: Monitor and troubleshoot).",
			"Check what changed on the instance just before: a kernel or agent update, a full disk, a network configuration.",
		},
		Escalation:  "The platform on-call if the instance serves production and does not recover after a reboot, or if several instances fail at once.",
		Remediation: []string{"Reboot the instance (instance check)", "Stop and start it to move it to a healthy host (system check)", "Terminate it and let Auto Scaling replace it"},
	},
	RunbookMemory: {
		ID:    RunbookMemory,
		Title: "Memory pressure",
		Means: "Memory is running short: used memory is above (or freeable memory below) its threshold, so processes may be killed or the host may swap.",
		Diagnose: []string{
			"Open the alarm's metric: a steady climb since a deployment points to a leak, a step to new load.",
			"On the host or task, find the processes using the most memory (SSM Session Manager, container insights).",
			"Check the application logs for out-of-memory kills and restarts.",
		},
		Escalation:  "The service's on-call if processes are being killed or latency rises with it.",
		Remediation: []string{"Restart the leaking process or task", "Roll back a release that raised memory use", "Right-size the instance, task or database class"},
	},
	RunbookAlarm: {
		ID:    RunbookAlarm,
		Title: "Other CloudWatch alarms",
		Means: "A CloudWatch alarm crossed its threshold: its description and reason above say what it watches and what it saw.",
		Diagnose: []string{
			"Open the alarm and its metric: when did it start, and how far past the threshold is it?",
			"Check recent changes to the resource it watches: deployments, configuration, traffic.",
			"Find the alarm's owner (its tags or description) if it is not yours.",
		},
		Escalation:  "The owner of the resource the alarm watches; the service's on-call if users are affected.",
		Remediation: []string{"Fix the cause the alarm's metric shows", "Roll back a change that started it", "Tune the alarm if it fires on healthy behaviour"},
	},
	RunbookSecurityAlarm: {
		ID:    RunbookSecurityAlarm,
		Title: "Security activity",
		Means: "Sign-in, user or API activity crossed its alarm: outside its expected band (the sign-in alarm: 2 standard deviations for 15 minutes by default) or above a threshold (unauthorized calls). A spike can be credential stuffing or misuse; a drop, a broken sign-in.",
		Diagnose: []string{
			"Look up the activity in CloudTrail for the alarm window: which principals, source IPs, and APIs?",
			"Check GuardDuty and Security Hub for findings on the same principals or resources.",
			"Confirm with the service owner whether a launch, campaign or test explains it.",
		},
		Escalation:  "Unexplained activity is a security incident: page the security on-call and follow incident response (classify, isolate, investigate).",
		Remediation: []string{"Disable or rotate the credentials involved", "Block the source at the WAF or security group", "Preserve logs for the investigation"},
	},
	RunbookPipeline: {
		ID:    RunbookPipeline,
		Title: "Pipeline failure",
		Means: "A pipeline execution failed: the change did not reach (or did not stay in) production.",
		Diagnose: []string{
			"Open the execution in the CodePipeline console and read the failing action's summary.",
			"Open the failing action's logs (CodeBuild log, CodeDeploy deployment, Lambda log) from the links.",
			"Check the action's IAM role permissions and that the resources it uses still exist.",
		},
		Escalation:  "The team that owns the pipeline; escalate to the platform team if the failure is in shared infrastructure or IAM.",
		Remediation: []string{"Fix the change and push again", "Retry the failed stage if the failure was transient", "Roll the stage back to the last good execution"},
	},
	RunbookBuild: {
		ID:    RunbookBuild,
		Title: "Build failure",
		Means: "A CodeBuild build failed: tests, a security scan or packaging did not pass.",
		Diagnose: []string{
			"Open the build log from the link and find the first failing command.",
			"Re-run the failing command locally with the same image and environment.",
			"If a dependency or scan failed, check for an upstream outage or a new vulnerability advisory.",
		},
		Escalation:  "The change's author first; the platform team if the build image or CodeBuild itself is at fault.",
		Remediation: []string{"Fix the code or test", "Pin or update the failing dependency", "Retry the build if the failure was transient"},
	},
	RunbookDeployment: {
		ID:    RunbookDeployment,
		Title: "Deployment failure",
		Means: "A CodeDeploy deployment failed or was stopped: the new revision is not serving, or has been rolled back.",
		Diagnose: []string{
			"Open the deployment in the CodeDeploy console: which lifecycle event failed, on which instances or tasks?",
			"If alarms stopped it, open those alarms and their metrics for the deployment window.",
			"Check instance or task health and the application's logs from the deployment window.",
		},
		Escalation:  "The service's on-call if production is degraded; the releasing team otherwise.",
		Remediation: []string{"Let automatic rollback finish, or redeploy the last good revision", "Fix the lifecycle hook script or the health check", "Redeploy once the alarms are OK"},
	},
	RunbookVerification: {
		ID:    RunbookVerification,
		Title: "Post-deploy verification failure",
		Means: "Post-deploy verification found the fresh deployment unhealthy: the checks named below failed during the bake.",
		Diagnose: []string{
			"Read the failed checks' evidence above: what was observed against what was expected.",
			"Reproduce the failing check by hand (the target URL, alarm or metric).",
			"Compare with the previous release: error and latency metrics before and after the deployment.",
		},
		Escalation:  "The releasing team; page the service's on-call if users are affected and rollback did not restore health.",
		Remediation: []string{"Roll the stage back to the last good execution (done automatically when the rollback policy is on)", "Fix forward and redeploy", "If the check itself is wrong, fix the verification spec"},
	},
	RunbookVulnerability: {
		ID:    RunbookVulnerability,
		Title: "Vulnerability finding",
		Means: "A scanner found a vulnerability in a deployed or deployable artefact. Priority combines severity, exploitability, asset criticality and compliance.",
		Diagnose: []string{
			"Confirm the affected image digest or instance is in use (ECS services, running instances).",
			"Read the advisory: is the vulnerable code path reachable in this service?",
			"Check whether a fixed version exists and what else it changes.",
		},
		Escalation:  "P1: security on-call now, fix within 24 hours. P2: owning team this week. P3/P4: backlog within the SLA.",
		Remediation: []string{"Update the package or base image and rebuild", "Redeploy through the pipeline (the imageScan check gates the new digest)", "If no fix exists, mitigate (disable the feature, restrict network access) and record an exception"},
	},
	RunbookThreat: {
		ID:    RunbookThreat,
		Title: "Threat detection",
		Means: "GuardDuty or another detector observed malicious or unauthorised activity in the account.",
		Diagnose: []string{
			"Open the finding in the GuardDuty console: the actor, the action and the affected resource.",
			"Check CloudTrail and VPC Flow Logs for the resource around the first-seen time.",
			"Decide whether the activity is expected (a pen test, a known tool) or hostile.",
		},
		Escalation:  "Treat as a security incident: page the security on-call; classify severity, isolate, investigate, fix, review.",
		Remediation: []string{"Isolate the instance (quarantine security group) and snapshot it for forensics", "Rotate credentials the resource could reach", "Rebuild from a known-good image"},
	},
	RunbookCompliance: {
		ID:    RunbookCompliance,
		Title: "Compliance finding",
		Means: "A resource fails a compliance control (CIS, PCI DSS, NIST, AWS Foundational Security Best Practices).",
		Diagnose: []string{
			"Open the control's remediation link and confirm the resource's configuration.",
			"Find who owns the resource (tags, CloudTrail creator).",
			"Check whether an exception has been approved for it.",
		},
		Escalation:  "The resource owner; the security team for controls in audit scope.",
		Remediation: []string{"Apply the control's recommended configuration", "Fix the infrastructure code so the drift does not come back", "Record an approved exception if it is intended"},
	},
}

// RunbookURL joins the runbook base URL and a runbook id ("" when the
// base is empty).
func RunbookURL(base, id string) string {
	if base == "" || id == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/" + id
}

// Apply fills the alert's diagnosis, escalation, remediation and runbook
// link from the runbook id, keeping anything already set.
func (a *Alert) Apply(base, id string) {
	rb, ok := Runbooks[id]
	if !ok {
		return
	}
	if a.Why == "" {
		a.Why = rb.Means
	}
	if len(a.Diagnose) == 0 {
		a.Diagnose = rb.Diagnose
	}
	if a.Escalation == "" {
		a.Escalation = rb.Escalation
	}
	if len(a.Remediation) == 0 {
		a.Remediation = rb.Remediation
	}
	if a.Runbook == "" {
		a.Runbook = RunbookURL(base, id)
	}
}
