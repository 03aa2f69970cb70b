package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Environment variables of respond's delivery-performance metrics
// (pkg/delivery). All optional.
const (
	// EnvProductionStages names the CodePipeline stage(s) that deploy to
	// production, comma-separated (default "Prod,Production"). A pipeline
	// with none of them is left out of the delivery metrics, logged and
	// counted (DeliveryEventsIgnored, Reason no-production-stage).
	EnvProductionStages = "POSTDEPLOY_PRODUCTION_STAGES"
	// EnvChangeFailureWindow is how long after a production deployment a
	// Failed verification, a rollback or an incident counts against it
	// (default 24h).
	EnvChangeFailureWindow = "POSTDEPLOY_CHANGE_FAILURE_WINDOW"
	// EnvIncidentAlarms says which pipeline's service an alarm watches, as
	// alarm-name-prefix=pipeline pairs: "prod-api-=api-pipeline,shop-=shop".
	// An alarm that enters ALARM is an incident of that pipeline (the
	// longest matching prefix wins); other alarms are not incidents of any
	// service (logged, counted as Reason no-service).
	EnvIncidentAlarms = "POSTDEPLOY_INCIDENT_ALARMS"
)

// Delivery defaults.
const (
	DefaultProductionStages    = "Prod,Production"
	DefaultChangeFailureWindow = 24 * time.Hour
)

// AlarmPipeline maps alarms whose names start with Prefix to Pipeline.
type AlarmPipeline struct {
	Prefix   string
	Pipeline string
}

// Delivery is the delivery-performance configuration respond reads.
type Delivery struct {
	ProductionStages    []string
	ChangeFailureWindow time.Duration
	IncidentAlarms      []AlarmPipeline
}

// LoadDelivery reads the delivery settings; the error joins every problem
// found.
func LoadDelivery(getenv Getenv) (Delivery, error) {
	l := &loader{getenv: getenv}
	var c Delivery
	for s := range strings.SplitSeq(l.str(EnvProductionStages, DefaultProductionStages), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.ProductionStages = append(c.ProductionStages, s)
		}
	}
	if len(c.ProductionStages) == 0 {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: name at least one stage, e.g. %q", EnvProductionStages, l.getenv(EnvProductionStages), DefaultProductionStages))
	}
	c.ChangeFailureWindow = l.duration(EnvChangeFailureWindow, DefaultChangeFailureWindow)
	if c.ChangeFailureWindow == 0 {
		l.errs = append(l.errs, fmt.Errorf("%s=0: must be above 0 (e.g. \"24h\")", EnvChangeFailureWindow))
	}
	if v := l.str(EnvIncidentAlarms, ""); v != "" {
		for part := range strings.SplitSeq(v, ",") {
			prefix, pipeline, ok := strings.Cut(strings.TrimSpace(part), "=")
			prefix, pipeline = strings.TrimSpace(prefix), strings.TrimSpace(pipeline)
			if !ok || prefix == "" || pipeline == "" {
				l.errs = append(l.errs, fmt.Errorf("%s: %q: want alarm-name-prefix=pipeline, e.g. prod-api-=api-pipeline", EnvIncidentAlarms, part))
				continue
			}
			c.IncidentAlarms = append(c.IncidentAlarms, AlarmPipeline{Prefix: prefix, Pipeline: pipeline})
		}
	}
	return c, errors.Join(l.errs...)
}

// PipelineOfAlarm is the pipeline whose service the alarm watches: the
// longest configured prefix of name; "" when none matches.
func (c Delivery) PipelineOfAlarm(name string) string {
	best := -1
	var p string
	for _, m := range c.IncidentAlarms {
		if strings.HasPrefix(name, m.Prefix) && len(m.Prefix) > best {
			best, p = len(m.Prefix), m.Pipeline
		}
	}
	return p
}

// IsProductionStage reports whether stage is one of the production stages.
func (c Delivery) IsProductionStage(stage string) bool {
	for _, s := range c.ProductionStages {
		if s == stage {
			return true
		}
	}
	return false
}
