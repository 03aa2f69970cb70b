package standin

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Scenario seeds the stand-in's state. It is a Go struct a test fills in,
// and it loads from a JSON or YAML file (LoadScenario) with the same
// field names. Times are relative to the moment the Server is created
// ("ago" durations) so a scenario file stays valid on any day.
type Scenario struct {
	Alarms             []Alarm             `json:"alarms,omitempty"`
	Metrics            []Series            `json:"metrics,omitempty"`
	Parameters         []Parameter         `json:"parameters,omitempty"`
	Objects            []Object            `json:"objects,omitempty"`
	Jobs               []Job               `json:"jobs,omitempty"`
	Pipelines          []Pipeline          `json:"pipelines,omitempty"`
	PipelineExecutions []PipelineExecution `json:"pipelineExecutions,omitempty"`
	ECSServices        []ECSService        `json:"ecsServices,omitempty"`
	Instances          []Instance          `json:"instances,omitempty"`
	AutoScalingGroups  []AutoScalingGroup  `json:"autoScalingGroups,omitempty"`
	DeploymentGroups   []DeploymentGroup   `json:"deploymentGroups,omitempty"`
	Deployments        []Deployment        `json:"deployments,omitempty"`
	LambdaFunctions    []LambdaFunction    `json:"lambdaFunctions,omitempty"`
	LambdaAliases      []LambdaAlias       `json:"lambdaAliases,omitempty"`
	ImageScans         []ImageScan         `json:"imageScans,omitempty"`
	InspectorFindings  []InspectorFinding  `json:"inspectorFindings,omitempty"`
	// SettleAfter is how long an ECS deployment started by UpdateService
	// stays IN_PROGRESS before it is COMPLETED with running = desired
	// (default 0: settled by the next DescribeServices).
	SettleAfter Duration `json:"settleAfter,omitempty"`

	// dir resolves Object.File; set by LoadScenario.
	dir string
}

// Duration is a time.Duration written as a Go duration string ("90s").
type Duration struct{ time.Duration }

// UnmarshalJSON reads "90s"-style strings (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration must be a string like \"90s\" or a number of seconds, got %s", b)
		}
		d.Duration = time.Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w (write it like \"90s\" or \"10m\")", s, err)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Alarm is a CloudWatch metric or composite alarm.
type Alarm struct {
	Name string `json:"name"`
	// Type is MetricAlarm (default) or CompositeAlarm.
	Type string `json:"type,omitempty"`
	// State is OK (default), ALARM or INSUFFICIENT_DATA.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Since is how long before the server was created the alarm entered
	// State (default 1h).
	Since              Duration          `json:"since,omitempty"`
	Description        string            `json:"description,omitempty"`
	Namespace          string            `json:"namespace,omitempty"`
	MetricName         string            `json:"metricName,omitempty"`
	Dimensions         map[string]string `json:"dimensions,omitempty"`
	Statistic          string            `json:"statistic,omitempty"`
	Period             int               `json:"period,omitempty"`
	EvaluationPeriods  int               `json:"evaluationPeriods,omitempty"`
	Threshold          float64           `json:"threshold,omitempty"`
	ComparisonOperator string            `json:"comparisonOperator,omitempty"`
	// Rule is a composite alarm's AlarmRule.
	Rule    string   `json:"rule,omitempty"`
	Actions []string `json:"actions,omitempty"`
	// OKActions are notified when the alarm changes to OK (SetAlarmState).
	OKActions []string          `json:"okActions,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// Series is a metric's data: explicit points, a generator, or both.
type Series struct {
	Namespace  string            `json:"namespace"`
	MetricName string            `json:"metricName"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Points     []Point           `json:"points,omitempty"`
	Generator  *Generator        `json:"generator,omitempty"`
}

// Point is one datum, at an absolute time or Ago before server creation.
type Point struct {
	At    time.Time `json:"at,omitzero"`
	Ago   Duration  `json:"ago,omitzero"`
	Value float64   `json:"value"`
}

// Generator produces a value for any period-aligned timestamp.
//   - constant: Value everywhere.
//   - step: From before Start, To from Start on.
//   - ramp: From until Start, rising linearly to To over Over, then To.
//
// Start is an offset from server creation (negative = before it).
type Generator struct {
	Kind  string   `json:"kind"`
	Value float64  `json:"value,omitempty"`
	From  float64  `json:"from,omitempty"`
	To    float64  `json:"to,omitempty"`
	Start Duration `json:"start,omitzero"`
	Over  Duration `json:"over,omitzero"`
}

// Parameter is an SSM parameter.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Type is String (default), StringList or SecureString.
	Type    string `json:"type,omitempty"`
	Version int    `json:"version,omitempty"`
}

// Object is an S3 object. Exactly one of Body, BodyBase64, File or Zip
// gives its bytes; Zip builds a zip archive from name -> content.
type Object struct {
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Body        string            `json:"body,omitempty"`
	BodyBase64  string            `json:"bodyBase64,omitempty"`
	File        string            `json:"file,omitempty"`
	Zip         map[string]string `json:"zip,omitempty"`
	ContentType string            `json:"contentType,omitempty"`
}

// Job is a CodePipeline job known to GetJobDetails. Jobs not listed are
// still accepted by PutJobSuccessResult / PutJobFailureResult and tracked
// from their first report.
type Job struct {
	ID                string        `json:"id"`
	PipelineName      string        `json:"pipelineName,omitempty"`
	StageName         string        `json:"stageName,omitempty"`
	ActionName        string        `json:"actionName,omitempty"`
	ExecutionID       string        `json:"executionId,omitempty"`
	FunctionName      string        `json:"functionName,omitempty"`
	UserParameters    string        `json:"userParameters,omitempty"`
	InputArtifacts    []ArtifactRef `json:"inputArtifacts,omitempty"`
	ContinuationToken string        `json:"continuationToken,omitempty"`
}

// ArtifactRef names a pipeline artifact stored in S3.
type ArtifactRef struct {
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Pipeline is a CodePipeline pipeline's structure (GetPipeline).
type Pipeline struct {
	Name   string          `json:"name"`
	Stages []PipelineStage `json:"stages,omitempty"`
}

// PipelineStage is one stage of a pipeline.
type PipelineStage struct {
	Name    string           `json:"name"`
	Actions []PipelineAction `json:"actions,omitempty"`
}

// PipelineAction is one action of a stage.
type PipelineAction struct {
	Name string `json:"name"`
	// Category is Source, Build, Deploy, Test, Invoke or Approval.
	Category      string            `json:"category"`
	Owner         string            `json:"owner,omitempty"`
	Provider      string            `json:"provider"`
	Configuration map[string]string `json:"configuration,omitempty"`
}

// PipelineExecution is a CodePipeline execution (GetPipelineExecution,
// ListPipelineExecutions, ListActionExecutions, RollbackStage). List
// executions oldest first: ListPipelineExecutions answers newest first.
type PipelineExecution struct {
	PipelineName string `json:"pipelineName"`
	ID           string `json:"id"`
	// Status is InProgress (default), Succeeded, Failed, Stopped...
	Status  string            `json:"status,omitempty"`
	Actions []ActionExecution `json:"actions,omitempty"`
	// ExecutionType is STANDARD (default) or ROLLBACK; Revisions are its
	// artifactRevisions (GetPipelineExecution).
	ExecutionType string             `json:"executionType,omitempty"`
	Revisions     []ArtifactRevision `json:"revisions,omitempty"`
}

// ArtifactRevision is one source revision of an execution: created is
// "the date and time when the most recent revision of the artifact was
// created" (CodePipeline API Reference, ArtifactRevision).
type ArtifactRevision struct {
	Name       string    `json:"name"`
	RevisionID string    `json:"revisionId,omitempty"`
	Created    time.Time `json:"created"`
}

// ActionExecution is one action run within a pipeline execution.
type ActionExecution struct {
	StageName  string `json:"stageName"`
	ActionName string `json:"actionName"`
	Status     string `json:"status,omitempty"`
	Summary    string `json:"summary,omitempty"`
	// StartTime and EndTime (lastUpdateTime) default to the server's
	// creation; ExternalID is the external execution id (a CodeDeploy
	// deployment id).
	StartTime  time.Time `json:"startTime,omitzero"`
	EndTime    time.Time `json:"endTime,omitzero"`
	ExternalID string    `json:"externalExecutionId,omitempty"`
}

// ECSService is an ECS service.
type ECSService struct {
	Cluster        string            `json:"cluster"`
	Name           string            `json:"name"`
	DesiredCount   int               `json:"desiredCount"`
	RunningCount   int               `json:"runningCount"`
	TaskDefinition string            `json:"taskDefinition,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// Instance is an EC2 instance.
type Instance struct {
	ID           string            `json:"id"`
	State        string            `json:"state,omitempty"`
	InstanceType string            `json:"instanceType,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// AutoScalingGroup is an Auto Scaling group.
type AutoScalingGroup struct {
	Name      string            `json:"name"`
	Min       int               `json:"min"`
	Max       int               `json:"max"`
	Desired   int               `json:"desired"`
	Instances []string          `json:"instances,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
}

// DeploymentGroup is a CodeDeploy deployment group.
type DeploymentGroup struct {
	ApplicationName string `json:"applicationName"`
	Name            string `json:"name"`
	// ComputePlatform is Server (default), Lambda or ECS.
	ComputePlatform string            `json:"computePlatform,omitempty"`
	Alarms          []string          `json:"alarms,omitempty"`
	AutoRollback    bool              `json:"autoRollback,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// LambdaFunction is a Lambda function's versions and tags (aliases are
// in LambdaAliases; their versions are implied here).
type LambdaFunction struct {
	Name     string            `json:"name"`
	Versions []string          `json:"versions,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// Deployment is a CodeDeploy deployment.
type Deployment struct {
	ID              string `json:"id"`
	ApplicationName string `json:"applicationName,omitempty"`
	GroupName       string `json:"groupName,omitempty"`
	// Status is InProgress (default), Succeeded, Failed, Stopped...
	Status string `json:"status,omitempty"`
}

// LambdaAlias is a Lambda function alias with optional weighted routing.
type LambdaAlias struct {
	Function          string             `json:"function"`
	Name              string             `json:"name"`
	Version           string             `json:"version"`
	Description       string             `json:"description,omitempty"`
	AdditionalWeights map[string]float64 `json:"additionalWeights,omitempty"`
}

// ImageScan is an ECR image scan result.
type ImageScan struct {
	Repository string         `json:"repository"`
	Digest     string         `json:"digest,omitempty"`
	Tag        string         `json:"tag,omitempty"`
	Status     string         `json:"status,omitempty"`
	Findings   []ImageFinding `json:"findings,omitempty"`
}

// ImageFinding is one ECR basic-scan finding.
type ImageFinding struct {
	Name        string `json:"name"`
	Severity    string `json:"severity"`
	Description string `json:"description,omitempty"`
	URI         string `json:"uri,omitempty"`
	Package     string `json:"package,omitempty"`
	Version     string `json:"version,omitempty"`
}

// InspectorFinding is one Inspector2 finding.
type InspectorFinding struct {
	ARN             string  `json:"arn,omitempty"`
	Title           string  `json:"title"`
	Severity        string  `json:"severity"`
	Status          string  `json:"status,omitempty"`
	Type            string  `json:"type,omitempty"`
	VulnerabilityID string  `json:"vulnerabilityId,omitempty"`
	Repository      string  `json:"repository,omitempty"`
	Digest          string  `json:"digest,omitempty"`
	ResourceID      string  `json:"resourceId,omitempty"`
	ResourceType    string  `json:"resourceType,omitempty"`
	Score           float64 `json:"score,omitempty"`
}

// LoadScenario reads a scenario from a JSON or YAML file. Unknown fields
// are errors; Object.File paths are relative to the file's directory.
func LoadScenario(path string) (Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	sc, err := ParseScenario(b)
	if err != nil {
		return Scenario{}, fmt.Errorf("scenario %s: %w", path, err)
	}
	sc.dir = filepath.Dir(path)
	return sc, nil
}

// ParseScenario decodes a JSON or YAML scenario and validates it.
func ParseScenario(b []byte) (Scenario, error) {
	var sc Scenario
	if err := yaml.UnmarshalStrict(b, &sc); err != nil {
		return Scenario{}, fmt.Errorf("decode scenario: %w", err)
	}
	if err := sc.Validate(); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// Validate reports every problem in the scenario, each with its path.
func (sc Scenario) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{path}, args...)...))
	}
	oneOf := func(path, v string, allowed ...string) {
		if v == "" {
			return
		}
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		add(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	seen := map[string]bool{}
	for i, a := range sc.Alarms {
		p := fmt.Sprintf("alarms[%d]", i)
		if a.Name == "" {
			add(p+".name", "is required")
		} else if seen[a.Name] {
			add(p+".name", "%q is listed twice", a.Name)
		}
		seen[a.Name] = true
		oneOf(p+".type", a.Type, "MetricAlarm", "CompositeAlarm")
		oneOf(p+".state", a.State, "OK", "ALARM", "INSUFFICIENT_DATA")
	}
	for i, m := range sc.Metrics {
		p := fmt.Sprintf("metrics[%d]", i)
		if m.Namespace == "" || m.MetricName == "" {
			add(p, "namespace and metricName are required")
		}
		if m.Generator != nil {
			oneOf(p+".generator.kind", m.Generator.Kind, "constant", "step", "ramp")
			if m.Generator.Kind == "" {
				add(p+".generator.kind", "is required: constant, step or ramp")
			}
		}
	}
	for i, prm := range sc.Parameters {
		p := fmt.Sprintf("parameters[%d]", i)
		if prm.Name == "" {
			add(p+".name", "is required")
		}
		oneOf(p+".type", prm.Type, "String", "StringList", "SecureString")
	}
	for i, o := range sc.Objects {
		p := fmt.Sprintf("objects[%d]", i)
		if o.Bucket == "" || o.Key == "" {
			add(p, "bucket and key are required")
		}
		n := 0
		for _, set := range []bool{o.Body != "", o.BodyBase64 != "", o.File != "", o.Zip != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			add(p, "give only one of body, bodyBase64, file, zip")
		}
		if o.BodyBase64 != "" {
			if _, err := base64.StdEncoding.DecodeString(o.BodyBase64); err != nil {
				add(p+".bodyBase64", "is not base64: %v", err)
			}
		}
	}
	for i, j := range sc.Jobs {
		if j.ID == "" {
			add(fmt.Sprintf("jobs[%d].id", i), "is required")
		}
	}
	for i, e := range sc.PipelineExecutions {
		if e.PipelineName == "" || e.ID == "" {
			add(fmt.Sprintf("pipelineExecutions[%d]", i), "pipelineName and id are required")
		}
	}
	for i, svc := range sc.ECSServices {
		if svc.Cluster == "" || svc.Name == "" {
			add(fmt.Sprintf("ecsServices[%d]", i), "cluster and name are required")
		}
	}
	for i, in := range sc.Instances {
		p := fmt.Sprintf("instances[%d]", i)
		if in.ID == "" {
			add(p+".id", "is required")
		}
		oneOf(p+".state", in.State, "pending", "running", "stopping", "stopped", "shutting-down", "terminated")
	}
	for i, g := range sc.AutoScalingGroups {
		p := fmt.Sprintf("autoScalingGroups[%d]", i)
		if g.Name == "" {
			add(p+".name", "is required")
		}
		if g.Desired < g.Min || g.Desired > g.Max {
			add(p+".desired", "%d is outside min %d .. max %d", g.Desired, g.Min, g.Max)
		}
	}
	for i, p := range sc.Pipelines {
		if p.Name == "" {
			add(fmt.Sprintf("pipelines[%d].name", i), "is required")
		}
	}
	for i, g := range sc.DeploymentGroups {
		p := fmt.Sprintf("deploymentGroups[%d]", i)
		if g.ApplicationName == "" || g.Name == "" {
			add(p, "applicationName and name are required")
		}
		oneOf(p+".computePlatform", g.ComputePlatform, "Server", "Lambda", "ECS")
	}
	for i, f := range sc.LambdaFunctions {
		if f.Name == "" {
			add(fmt.Sprintf("lambdaFunctions[%d].name", i), "is required")
		}
	}
	for i, d := range sc.Deployments {
		if d.ID == "" {
			add(fmt.Sprintf("deployments[%d].id", i), "is required")
		}
	}
	for i, a := range sc.LambdaAliases {
		if a.Function == "" || a.Name == "" || a.Version == "" {
			add(fmt.Sprintf("lambdaAliases[%d]", i), "function, name and version are required")
		}
	}
	for i, s := range sc.ImageScans {
		if s.Repository == "" || (s.Digest == "" && s.Tag == "") {
			add(fmt.Sprintf("imageScans[%d]", i), "repository and a digest or tag are required")
		}
	}
	for i, f := range sc.InspectorFindings {
		if f.Title == "" || f.Severity == "" {
			add(fmt.Sprintf("inspectorFindings[%d]", i), "title and severity are required")
		}
	}
	return errors.Join(errs...)
}

// objectBytes resolves an Object's content.
func (sc Scenario) objectBytes(o Object) ([]byte, error) {
	switch {
	case o.BodyBase64 != "":
		return base64.StdEncoding.DecodeString(o.BodyBase64)
	case o.File != "":
		p := o.File
		if !filepath.IsAbs(p) && sc.dir != "" {
			p = filepath.Join(sc.dir, p)
		}
		return os.ReadFile(p)
	case o.Zip != nil:
		return zipFiles(o.Zip)
	}
	return []byte(o.Body), nil
}

// zipFiles builds a zip archive (as CodePipeline artifacts are) from
// name -> content, in name order so the bytes are reproducible.
func zipFiles(files map[string]string) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
		if _, err := w.Write([]byte(files[n])); err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}
