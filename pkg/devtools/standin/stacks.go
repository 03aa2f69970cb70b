package standin

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CloudFormation: DescribeStacks and ListStackResources, over stacks
// seeded with AddStack, so the alert drill finds a stack's alarms,
// topics, dashboards and outputs the way it does in AWS. And CloudWatch
// GetDashboard over dashboards seeded with PutDashboard.

// CloudFormation is the service name of CloudFormation calls.
const CloudFormation = "cloudformation"

// Stack is a CloudFormation stack as DescribeStacks and
// ListStackResources report it. Its status is CREATE_COMPLETE unless
// Status says otherwise.
type Stack struct {
	Name        string
	Description string
	Status      string
	Outputs     map[string]string
	Resources   []StackResource
}

// StackResource is one resource of a stack: its logical id, type and
// physical id (an alarm's or dashboard's name, a topic's ARN, ...).
type StackResource struct {
	LogicalID, Type, PhysicalID string
}

// stackState is the state of stacks.go, sqs.go and delivery.go.
type stackState struct {
	stacks      map[string]*stackRec
	dashboards  map[string]string // name → body
	queues      map[string]*sqsQueue
	hooks       Hooks
	undelivered []Undelivered
}

type stackRec struct {
	Stack
	id      string
	created time.Time
}

// AddStack adds (or replaces) a stack.
func (s *Server) AddStack(st Stack) error {
	if st.Name == "" {
		return fmt.Errorf("add stack: Name is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.stacks.stacks == nil {
		s.st.stacks.stacks = map[string]*stackRec{}
	}
	if st.Status == "" {
		st.Status = "CREATE_COMPLETE"
	}
	id := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/6d8c2f40-0000-4000-8000-%012d", Region, AccountID, st.Name, len(s.st.stacks.stacks)+1)
	s.st.stacks.stacks[st.Name] = &stackRec{Stack: st, id: id, created: s.now()}
	return nil
}

// PutDashboard creates or replaces a CloudWatch dashboard.
func (s *Server) PutDashboard(name, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.stacks.dashboards == nil {
		s.st.stacks.dashboards = map[string]string{}
	}
	s.st.stacks.dashboards[name] = body
}

// findStack finds a stack by name or stack id, as CloudFormation's
// StackName parameter accepts either.
func (st *stackState) findStack(nameOrID string) (*stackRec, *APIError) {
	for _, r := range st.stacks {
		if r.Name == nameOrID || r.id == nameOrID {
			return r, nil
		}
	}
	// DescribeStacks: "ValidationError: Stack with id <name> does not
	// exist" (AWS CloudFormation API Reference, DescribeStacks).
	return nil, apiErr(400, "ValidationError", "Stack with id %s does not exist", nameOrID)
}

func cfnDescribeStacks(s *Server, req *request) (any, error) {
	name := str(req.input, "StackName")
	var recs []*stackRec
	if name == "" {
		for _, r := range s.st.stacks.stacks {
			recs = append(recs, r)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	} else {
		r, err := s.st.stacks.findStack(name)
		if err != nil {
			return nil, err
		}
		recs = []*stackRec{r}
	}
	var out []any
	for _, r := range recs {
		var outputs []any
		for _, k := range sortedKeys(r.Outputs) {
			outputs = append(outputs, map[string]any{"OutputKey": k, "OutputValue": r.Outputs[k]})
		}
		m := map[string]any{
			"StackName": r.Name, "StackId": r.id, "StackStatus": r.Status, "CreationTime": r.created,
		}
		if r.Description != "" {
			m["Description"] = r.Description
		}
		if len(outputs) > 0 {
			m["Outputs"] = outputs
		}
		out = append(out, m)
	}
	return map[string]any{"Stacks": out}, nil
}

// stackResourcesPage is ListStackResources' page size.
const stackResourcesPage = 100

func cfnListStackResources(s *Server, req *request) (any, error) {
	name := str(req.input, "StackName")
	if name == "" {
		return nil, apiErr(400, "ValidationError", "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null")
	}
	r, apiE := s.st.stacks.findStack(name)
	if apiE != nil {
		return nil, apiE
	}
	start := 0
	if tok := str(req.input, "NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "standin-"))
		if err != nil || !strings.HasPrefix(tok, "standin-") || n < 0 || n > len(r.Resources) {
			return nil, apiErr(400, "ValidationError", "NextToken %q was not issued by this stand-in", tok)
		}
		start = n
	}
	end := min(start+stackResourcesPage, len(r.Resources))
	var sums []any
	for _, res := range r.Resources[start:end] {
		sums = append(sums, map[string]any{
			"LogicalResourceId": res.LogicalID, "PhysicalResourceId": res.PhysicalID, "ResourceType": res.Type,
			"ResourceStatus": "CREATE_COMPLETE", "LastUpdatedTimestamp": r.created,
		})
	}
	out := map[string]any{"StackResourceSummaries": sums}
	if end < len(r.Resources) {
		out["NextToken"] = fmt.Sprintf("standin-%d", end)
	}
	return out, nil
}

// cwGetDashboard answers GetDashboard; an unknown name is CloudWatch's
// DashboardNotFoundError, code ResourceNotFound (CloudWatch API
// Reference, GetDashboard).
func cwGetDashboard(s *Server, req *request) (any, error) {
	name := str(req.input, "DashboardName")
	body, ok := s.st.stacks.dashboards[name]
	if name == "" || !ok {
		return nil, apiErr(404, "ResourceNotFound", "Dashboard %s does not exist", name)
	}
	return map[string]any{
		"DashboardName": name, "DashboardBody": body,
		"DashboardArn": fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", AccountID, name),
	}, nil
}

// AlarmStatus is an alarm's state now.
type AlarmStatus struct {
	Name, State, Reason string
}

// AlarmStates lists every alarm's state, by name.
func (s *Server) AlarmStates() []AlarmStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AlarmStatus, 0, len(s.st.alarms))
	for _, a := range s.st.alarms {
		out = append(out, AlarmStatus{Name: a.Name, State: a.State, Reason: a.Reason})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
