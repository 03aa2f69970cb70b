package telemetry

// Metric names of respond's security path at scale and of vulnerability
// management (pkg/vuln, pkg/respond/vuln*.go).
const (
	// MetricNotificationsFailed counts notifications SNS did not take
	// (a PublishBatch entry that failed for good, or a call that failed):
	// their dedupe claims are released and Lambda's retry sends them.
	// Dimension Kind.
	MetricNotificationsFailed = "NotificationsFailed"
	// MetricTicketFailures counts tickets that could not be opened,
	// updated or closed; the daily run retries them. Dimension Operation.
	MetricTicketFailures = "TicketFailures"
	// MetricTickets counts ticket operations done. Dimension Operation
	// (open, update, close, comment).
	MetricTickets = "Tickets"
	// MetricTimeToRemediate is a resolved finding's time from first seen
	// to resolved, in seconds. Dimension Priority.
	MetricTimeToRemediate = "TimeToRemediate"
	// MetricRemediatedWithinSLA counts resolved findings: 1 within the
	// SLA, 0 past it (its average is the share within SLA). Dimension
	// Priority.
	MetricRemediatedWithinSLA = "RemediatedWithinSLA"
	// MetricSLABreaches counts SLA-breach alerts sent. Dimension Priority.
	MetricSLABreaches = "SLABreaches"
	// MetricResolutionsMalformed counts resolution events that could not
	// be read and were dropped. Dimension Source.
	MetricResolutionsMalformed = "ResolutionsMalformed"
	// MetricDigests counts digests sent or updated (one CVE on many
	// resources). Dimension Action (sent, updated).
	MetricDigests = "Digests"
)
