// Package triage is the vulnerability management workflow of the suite:
// identify, classify, prioritise.
//
// FromEvent reads the security events EventBridge delivers — ECR basic
// scans ("ECR Image Scan", severity counts), Inspector2 findings and
// initial scans, GuardDuty findings (numeric severity), Security Hub
// findings in ASFF ("Security Hub Findings - Imported") and OCSF
// ("Findings Imported V2") — into one normalised Finding. FromECRFinding,
// FromECREnhancedFinding and FromInspector2 do the same for the API
// shapes, so the imageScan check scores findings the same way. A Security
// Hub event is a batch: each of its findings is read on its own, and one
// that cannot be read is refused with its index and field while the
// others go on.
//
// Severity classes follow each service's documentation: GuardDuty's
// numeric ranges, Inspector's UNTRIAGED, ASFF labels (or the Normalized
// ranges), OCSF severity_id.
//
// A Scorer turns a Finding into an Assessment: a 0–100 risk score
// weighted over severity, likelihood (known exploitation, public
// exploits, EPSS, observed activity), impact (the asset's criticality
// tag) and compliance, mapped to a priority P1–P4 with a remediation SLA.
//
// A Deduper claims each finding's Key in the state table so a finding is
// notified once per window.
package triage
