package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// state is the stand-in's in-memory AWS. Guarded by Server.mu.
type state struct {
	start       time.Time
	settleAfter time.Duration

	alarms     map[string]*alarm
	series     []*series
	params     map[string]*Parameter
	objects    map[string]*object // bucket + "/" + key
	jobs       map[string]*JobState
	executions map[string]*PipelineExecution // pipeline + "/" + id
	execOrder  []string                      // keys of executions, oldest first
	pipelines  map[string]*Pipeline
	groups     map[string]*DeploymentGroup // application + "/" + name
	functions  map[string]*LambdaFunction
	automation []AutomationExecution
	autoState  map[string]string // automation id -> forced status
	events     []map[string]any
	published  []Published
	sns        snsState               // subscriptions and deliveries (sns.go)
	secrets    secretsState           // Secrets Manager secrets (secretsmanager.go)
	stacks     stackState             // CloudFormation stacks, SQS queues, dashboards, deliveries (stacks.go, sqs.go, delivery.go)
	services   map[string]*ecsService // cluster + "/" + name
	instances  map[string]*Instance
	asgs       map[string]*AutoScalingGroup
	deploys    map[string]*deployment
	aliases    map[string]*LambdaAlias // function + ":" + name
	scans      []ImageScan
	findings   []InspectorFinding
	reboots    map[string]int
	seq        int
	hooks      hookState // CodeDeploy lifecycle hooks, Lambda async Invoke (codedeployhooks.go)
	elb        elbState  // Elastic Load Balancing v2 (elbv2.go)
}

type alarm struct {
	Alarm
	updated      time.Time
	transitioned time.Time
}

type series struct {
	Series
	points []datum
}

type datum struct {
	t int64 // unix seconds
	v float64
}

type object struct {
	body        []byte
	contentType string
	modified    time.Time
	etag        string
}

type ecsService struct {
	ECSService
	deployments []ecsDeployment
}

type ecsDeployment struct {
	id       string
	status   string // PRIMARY, ACTIVE
	rollout  string // IN_PROGRESS, COMPLETED
	created  time.Time
	desired  int
	settleAt time.Time
}

type deployment struct {
	Deployment
	created   time.Time
	completed time.Time
	// rollbackID is the deployment StopDeployment started to roll back;
	// rollbackOf the one this deployment rolls back.
	rollbackID, rollbackOf string
	rollbackMessage        string
	settleAt               time.Time
	// info adds fields to GetDeployment's deploymentInfo (computePlatform,
	// loadBalancerInfo, …: codedeployhooks.go).
	info map[string]any
}

// JobState is what the stand-in knows of a CodePipeline job: its status
// and every report made on it.
type JobState struct {
	ID string `json:"id"`
	// Status is InProgress until a terminal report, then Succeeded or
	// Failed.
	Status  string      `json:"status"`
	Reports []JobReport `json:"reports,omitempty"`
	job     Job
}

// JobReport is one PutJobSuccessResult or PutJobFailureResult.
type JobReport struct {
	Time time.Time `json:"time"`
	// Kind is "success" or "failure".
	Kind              string            `json:"kind"`
	ContinuationToken string            `json:"continuationToken,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	ExternalID        string            `json:"externalExecutionId,omitempty"`
	OutputVariables   map[string]string `json:"outputVariables,omitempty"`
	FailureType       string            `json:"failureType,omitempty"`
	Message           string            `json:"message,omitempty"`
}

// AutomationExecution is one SSM StartAutomationExecution.
type AutomationExecution struct {
	ID           string              `json:"id"`
	DocumentName string              `json:"documentName"`
	Parameters   map[string][]string `json:"parameters,omitempty"`
	Time         time.Time           `json:"time"`
}

// Published is one SNS Publish.
type Published struct {
	MessageID  string            `json:"messageId"`
	TopicARN   string            `json:"topicArn"`
	Subject    string            `json:"subject,omitempty"`
	Message    string            `json:"message"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Time       time.Time         `json:"time"`
}

func newState(sc Scenario, now time.Time) (*state, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	now = now.UTC()
	st := &state{
		start:       now,
		settleAfter: sc.SettleAfter.Duration,
		alarms:      map[string]*alarm{},
		params:      map[string]*Parameter{},
		objects:     map[string]*object{},
		jobs:        map[string]*JobState{},
		executions:  map[string]*PipelineExecution{},
		pipelines:   map[string]*Pipeline{},
		groups:      map[string]*DeploymentGroup{},
		functions:   map[string]*LambdaFunction{},
		services:    map[string]*ecsService{},
		instances:   map[string]*Instance{},
		asgs:        map[string]*AutoScalingGroup{},
		deploys:     map[string]*deployment{},
		aliases:     map[string]*LambdaAlias{},
	}
	for _, a := range sc.Alarms {
		if a.Type == "" {
			a.Type = "MetricAlarm"
		}
		if a.State == "" {
			a.State = "OK"
		}
		since := a.Since.Duration
		if since == 0 {
			since = time.Hour
		}
		if a.Reason == "" {
			a.Reason = "Seeded by the stand-in scenario"
		}
		t := now.Add(-since)
		st.alarms[a.Name] = &alarm{Alarm: a, updated: t, transitioned: t}
	}
	for _, m := range sc.Metrics {
		sr := &series{Series: m}
		for _, p := range m.Points {
			t := p.At
			if t.IsZero() {
				t = now.Add(-p.Ago.Duration)
			}
			sr.points = append(sr.points, datum{t.Unix(), p.Value})
		}
		st.series = append(st.series, sr)
	}
	for _, p := range sc.Parameters {
		if p.Type == "" {
			p.Type = "String"
		}
		if p.Version == 0 {
			p.Version = 1
		}
		st.params[p.Name] = &p
	}
	var errs []error
	for i, o := range sc.Objects {
		b, err := sc.objectBytes(o)
		if err != nil {
			errs = append(errs, fmt.Errorf("objects[%d] (%s/%s): %w", i, o.Bucket, o.Key, err))
			continue
		}
		st.putObject(o.Bucket, o.Key, b, o.ContentType, now)
	}
	for _, j := range sc.Jobs {
		st.jobs[j.ID] = &JobState{ID: j.ID, Status: "InProgress", job: j}
	}
	for _, e := range sc.PipelineExecutions {
		if e.Status == "" {
			e.Status = "InProgress"
		}
		st.executions[e.PipelineName+"/"+e.ID] = &e
		st.execOrder = append(st.execOrder, e.PipelineName+"/"+e.ID)
	}
	for _, p := range sc.Pipelines {
		st.pipelines[p.Name] = &p
	}
	for _, g := range sc.DeploymentGroups {
		if g.ComputePlatform == "" {
			g.ComputePlatform = "Server"
		}
		st.groups[g.ApplicationName+"/"+g.Name] = &g
	}
	for _, f := range sc.LambdaFunctions {
		st.functions[f.Name] = &f
	}
	for _, svc := range sc.ECSServices {
		s := &ecsService{ECSService: svc}
		s.deployments = []ecsDeployment{{id: "ecs-svc/0000000000000000001", status: "PRIMARY", rollout: "COMPLETED",
			created: now.Add(-24 * time.Hour), desired: svc.DesiredCount}}
		st.services[svc.Cluster+"/"+svc.Name] = s
	}
	for _, in := range sc.Instances {
		if in.State == "" {
			in.State = "running"
		}
		if in.InstanceType == "" {
			in.InstanceType = "t3.micro"
		}
		st.instances[in.ID] = &in
	}
	for _, g := range sc.AutoScalingGroups {
		st.asgs[g.Name] = &g
	}
	for _, d := range sc.Deployments {
		if d.Status == "" {
			d.Status = "InProgress"
		}
		st.deploys[d.ID] = &deployment{Deployment: d, created: now.Add(-10 * time.Minute)}
	}
	for _, a := range sc.LambdaAliases {
		st.aliases[a.Function+":"+a.Name] = &a
		f, ok := st.functions[a.Function]
		if !ok {
			f = &LambdaFunction{Name: a.Function}
			st.functions[a.Function] = f
		}
		for _, v := range append([]string{a.Version}, sortedKeys(a.AdditionalWeights)...) {
			if !slices.Contains(f.Versions, v) {
				f.Versions = append(f.Versions, v)
			}
		}
	}
	st.scans = append(st.scans, sc.ImageScans...)
	for i, f := range sc.InspectorFindings {
		if f.ARN == "" {
			f.ARN = fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%032x", Region, AccountID, i+1)
		}
		if f.Status == "" {
			f.Status = "ACTIVE"
		}
		if f.Type == "" {
			f.Type = "PACKAGE_VULNERABILITY"
		}
		st.findings = append(st.findings, f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *state) nextID(prefix string) string {
	st.seq++
	return fmt.Sprintf("%s%08d", prefix, st.seq)
}

func (st *state) putObject(bucket, key string, b []byte, ct string, now time.Time) {
	if ct == "" {
		ct = "application/octet-stream"
		if strings.HasSuffix(key, ".zip") {
			ct = "application/zip"
		}
	}
	st.objects[bucket+"/"+key] = &object{body: b, contentType: ct, modified: now,
		etag: fmt.Sprintf("\"%x\"", len(b)*2654435761+int(now.Unix()))}
}

// Mutators: a test or a scenario driver changes the world while the
// suite runs.

// SetAlarmState moves an alarm to state with reason, stamping the update
// and (when the state changes) transition times. It reports an unknown
// alarm or state.
func (s *Server) SetAlarmState(name, stateValue, reason string) error {
	switch stateValue {
	case "OK", "ALARM", "INSUFFICIENT_DATA":
	default:
		return fmt.Errorf("set alarm %q state: %q is not OK, ALARM or INSUFFICIENT_DATA", name, stateValue)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.alarms[name]
	if !ok {
		return fmt.Errorf("set alarm %q state: no such alarm; seed it in Scenario.Alarms or AddAlarm", name)
	}
	now := s.now()
	if a.State != stateValue {
		a.transitioned = now
	}
	a.State, a.Reason, a.updated = stateValue, reason, now
	return nil
}

// AlarmStateChanged is when the named alarm last changed state (its
// StateTransitionedTimestamp): the StateChangeTime CloudWatch writes in
// the notification of that change. ok is false for an unknown alarm.
func (s *Server) AlarmStateChanged(name string) (at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.alarms[name]
	if !ok {
		return time.Time{}, false
	}
	return a.transitioned, true
}

// StampAlarmNotifications rewrites an SNS event (events.SNSEvent JSON):
// each record that is a CloudWatch alarm notification of an alarm this
// stand-in has gets, as StateChangeTime, the time the alarm last changed
// state here — as CloudWatch writes its own notifications. Other records
// are left as they are.
func (s *Server) StampAlarmNotifications(snsEvent []byte) ([]byte, error) {
	var ev events.SNSEvent
	if err := json.Unmarshal(snsEvent, &ev); err != nil {
		return nil, fmt.Errorf("stamp alarm notifications: decode the SNS event: %w", err)
	}
	for i, rec := range ev.Records {
		var msg map[string]any
		if json.Unmarshal([]byte(rec.SNS.Message), &msg) != nil {
			continue
		}
		name, _ := msg["AlarmName"].(string)
		at, ok := s.AlarmStateChanged(name)
		if !ok {
			continue
		}
		msg["StateChangeTime"] = at.UTC().Format("2006-01-02T15:04:05.000-0700")
		m, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("stamp alarm notifications: %w", err)
		}
		ev.Records[i].SNS.Message = string(m)
		ev.Records[i].SNS.Timestamp = at.UTC()
	}
	return json.Marshal(ev)
}

// AddAlarm adds (or replaces) an alarm, entering its state now.
func (s *Server) AddAlarm(a Alarm) error {
	if err := (Scenario{Alarms: []Alarm{a}}).Validate(); err != nil {
		return fmt.Errorf("add alarm: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.Type == "" {
		a.Type = "MetricAlarm"
	}
	if a.State == "" {
		a.State = "OK"
	}
	now := s.now()
	s.st.alarms[a.Name] = &alarm{Alarm: a, updated: now, transitioned: now}
	return nil
}

// AddDatapoint records one metric value at t, as PutMetricData does.
func (s *Server) AddDatapoint(namespace, metric string, dims map[string]string, t time.Time, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.addPoint(namespace, metric, dims, t, v)
}

// SetParameter creates or overwrites an SSM parameter, bumping Version.
func (s *Server) SetParameter(p Parameter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Type == "" {
		p.Type = "String"
	}
	if old, ok := s.st.params[p.Name]; ok && p.Version == 0 {
		p.Version = old.Version + 1
	}
	if p.Version == 0 {
		p.Version = 1
	}
	s.st.params[p.Name] = &p
}

// PutObject stores an S3 object.
func (s *Server) PutObject(bucket, key string, body []byte, contentType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.putObject(bucket, key, body, contentType, s.now())
}

// AddJob registers a CodePipeline job for GetJobDetails.
func (s *Server) AddJob(j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.jobs[j.ID] = &JobState{ID: j.ID, Status: "InProgress", job: j}
}

// Job returns what the stand-in knows of a CodePipeline job.
func (s *Server) Job(id string) (JobState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.st.jobs[id]
	if !ok {
		return JobState{}, false
	}
	out := *j
	out.Reports = append([]JobReport(nil), j.Reports...)
	return out, true
}

// Jobs returns every tracked CodePipeline job, by id.
func (s *Server) Jobs() []JobState {
	s.mu.Lock()
	ids := make([]string, 0, len(s.st.jobs))
	for id := range s.st.jobs {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	sort.Strings(ids)
	out := make([]JobState, 0, len(ids))
	for _, id := range ids {
		if j, ok := s.Job(id); ok {
			out = append(out, j)
		}
	}
	return out
}

// Events returns the EventBridge entries put so far, as sent.
func (s *Server) Events() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.st.events...)
}

// Published returns the SNS messages published so far.
func (s *Server) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.st.published...)
}

// Automations returns the SSM automation executions started so far.
func (s *Server) Automations() []AutomationExecution {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AutomationExecution(nil), s.st.automation...)
}

// ECSService returns an ECS service's current desired and running counts.
func (s *Server) ECSService(cluster, name string) (ECSService, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.st.services[cluster+"/"+name]
	if !ok {
		return ECSService{}, false
	}
	s.st.settle(svc, s.now())
	return svc.ECSService, true
}

// SetRunningCount overrides an ECS service's running count (e.g. to make
// tasks crash).
func (s *Server) SetRunningCount(cluster, name string, running int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.st.services[cluster+"/"+name]
	if !ok {
		return fmt.Errorf("set running count: no ECS service %s/%s in the scenario", cluster, name)
	}
	svc.RunningCount = running
	return nil
}

// AutoScalingGroup returns an Auto Scaling group's current state.
func (s *Server) AutoScalingGroup(name string) (AutoScalingGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.st.asgs[name]
	if !ok {
		return AutoScalingGroup{}, false
	}
	return *g, true
}

// Instance returns an EC2 instance's current state.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.st.instances[id]
	if !ok {
		return Instance{}, false
	}
	return *in, true
}

// Deployment returns a CodeDeploy deployment's current status.
func (s *Server) Deployment(id string) (Deployment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.deploys[id]
	if !ok {
		return Deployment{}, false
	}
	return d.Deployment, true
}

// LambdaAlias returns an alias's current version and routing.
func (s *Server) LambdaAlias(function, name string) (LambdaAlias, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.aliases[function+":"+name]
	if !ok {
		return LambdaAlias{}, false
	}
	return *a, true
}

// PipelineExecution returns a pipeline execution's current state.
func (s *Server) PipelineExecution(pipeline, id string) (PipelineExecution, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.st.executions[pipeline+"/"+id]
	if !ok {
		return PipelineExecution{}, false
	}
	return *e, true
}

// SetDeploymentStatus moves a CodeDeploy deployment to status (e.g.
// Succeeded, Failed), adding it when unknown.
func (s *Server) SetDeploymentStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.st.deploys[id]
	if !ok {
		d = &deployment{Deployment: Deployment{ID: id}, created: s.now()}
		s.st.deploys[id] = d
	}
	d.Status = status
	d.settleAt = time.Time{}
	switch status {
	case "Succeeded", "Failed", "Stopped":
		d.completed = s.now()
	}
}

// AddImageScan adds (or replaces, by repository and digest) an ECR scan.
func (s *Server) AddImageScan(sc ImageScan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.st.scans {
		if old.Repository == sc.Repository && old.Digest == sc.Digest && old.Tag == sc.Tag {
			s.st.scans[i] = sc
			return
		}
	}
	s.st.scans = append(s.st.scans, sc)
}

// AddInspectorFinding adds an Inspector2 finding.
func (s *Server) AddInspectorFinding(f InspectorFinding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.ARN == "" {
		f.ARN = fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%032x", Region, AccountID, len(s.st.findings)+1)
	}
	if f.Status == "" {
		f.Status = "ACTIVE"
	}
	if f.Type == "" {
		f.Type = "PACKAGE_VULNERABILITY"
	}
	s.st.findings = append(s.st.findings, f)
}

// SetInstanceState sets an EC2 instance's state (running, stopped...).
func (s *Server) SetInstanceState(id, state string) error {
	if _, ok := ec2StateCodes[state]; !ok {
		return fmt.Errorf("set instance %s state: %q is not one of pending, running, shutting-down, terminated, stopping, stopped", id, state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.st.instances[id]
	if !ok {
		return fmt.Errorf("set instance %s state: no such instance in the scenario", id)
	}
	in.State = state
	return nil
}
