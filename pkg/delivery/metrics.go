package delivery

import (
	"time"

	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// Metric names respond emits for delivery performance (EMF, in the suite's
// namespace). infra/monitoring's "Delivery Performance" dashboard plots
// exactly these; a test there fails on any other name.
const (
	// MetricDeployments counts production deployments (Sum), dimension
	// Pipeline: deployment frequency.
	MetricDeployments = "Deployments"
	// MetricLeadTime is one deployment's lead time for changes in seconds,
	// dimension Pipeline.
	MetricLeadTime = "LeadTimeForChanges"
	// MetricChangeFailures counts deployments to which a failure was
	// attributed (Sum), dimension Pipeline; change failure rate is
	// 100 × ChangeFailures / Deployments over the same period.
	MetricChangeFailures = "ChangeFailures"
	// MetricTimeToRestore is one restore's time to restore service in
	// seconds, dimension Pipeline.
	MetricTimeToRestore = "TimeToRestore"
	// MetricBuilds counts finished CodeBuild builds (Sum), dimensions
	// Project, Outcome (Succeeded, Failed): build success rate.
	MetricBuilds = "Builds"
	// MetricPipelineExecutions counts finished pipeline executions (Sum),
	// dimensions Pipeline, Outcome (Succeeded, Failed): pipeline success
	// rate.
	MetricPipelineExecutions = "PipelineExecutions"
	// MetricEventsIgnored counts events left out of the delivery metrics
	// (Sum), dimension Reason (see the Reason constants).
	MetricEventsIgnored = "DeliveryEventsIgnored"
)

// Dimension names.
const (
	DimPipeline = "Pipeline"
	DimProject  = "Project"
	DimOutcome  = "Outcome"
	DimReason   = "Reason"
)

// Reasons an event is left out of the delivery metrics.
const (
	ReasonNoProductionStage = "no-production-stage" // the pipeline has none of the configured production stages
	ReasonNoService         = "no-service"          // an alarm no configured prefix maps to a pipeline
	ReasonNotConfirmed      = "not-confirmed"       // CodePipeline does not confirm what the event says
	ReasonUnattributed      = "unattributed"        // a failure with no production deployment in the window before it
	ReasonNoIncident        = "no-open-incident"    // an OK with no open incident (late, duplicate, or out of order)
	ReasonMalformed         = "malformed"           // a field the metrics need is missing
)

// Metrics lists every metric this package emits, for the dashboards'
// test.
var Metrics = []string{MetricDeployments, MetricLeadTime, MetricChangeFailures, MetricTimeToRestore, MetricBuilds, MetricPipelineExecutions, MetricEventsIgnored}

func count(name string) telemetry.Value {
	return telemetry.Value{Name: name, Unit: telemetry.UnitCount, Value: 1}
}

func seconds(name string, d time.Duration) telemetry.Value {
	return telemetry.Value{Name: name, Unit: telemetry.UnitSeconds, Value: d.Seconds()}
}
