package remediate

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECSAPI is the part of *ecs.Client the actions use.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

var ecsServiceParams = []Param{
	{Name: "cluster", Required: true, Doc: "the cluster, e.g. {{.Dimensions.ClusterName}}"},
	{Name: "service", Required: true, Doc: "the service, e.g. {{.Dimensions.ServiceName}}"},
}

func ecsTarget(p Params) Target {
	return Target{Type: "ecs-service", ID: p["cluster"] + "/" + p["service"]}
}

func splitService(t Target) (cluster, service string) {
	for i := len(t.ID) - 1; i >= 0; i-- {
		if t.ID[i] == '/' {
			return t.ID[:i], t.ID[i+1:]
		}
	}
	return "", t.ID
}

func describeService(ctx context.Context, api ECSAPI, t Target, tags bool) (ecstypes.Service, error) {
	cluster, service := splitService(t)
	in := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}}
	if tags {
		in.Include = []ecstypes.ServiceField{ecstypes.ServiceFieldTags}
	}
	out, err := api.DescribeServices(ctx, in)
	if err != nil {
		return ecstypes.Service{}, fmt.Errorf("describe ECS service %s in cluster %s: %w", service, cluster, err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.ServiceName) == service || aws.ToString(s.ServiceArn) == service {
			return s, nil
		}
	}
	reason := "not found"
	if len(out.Failures) > 0 {
		reason = aws.ToString(out.Failures[0].Reason)
	}
	return ecstypes.Service{}, fmt.Errorf("ECS service %s in cluster %s: %s", service, cluster, reason)
}

func ecsOptedIn(ctx context.Context, api ECSAPI, t Target, tag Tag) (bool, string, error) {
	s, err := describeService(ctx, api, t, true)
	if err != nil {
		return false, "", err
	}
	tags := map[string]string{}
	for _, x := range s.Tags {
		tags[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	ok, obs := tag.check(tags)
	return ok, obs, nil
}

// serviceStable reports whether s runs one deployment, completed, with
// all its desired tasks running.
func serviceStable(s ecstypes.Service, deploymentID string) (bool, string) {
	var primary *ecstypes.Deployment
	for i := range s.Deployments {
		if aws.ToString(s.Deployments[i].Status) == "PRIMARY" {
			primary = &s.Deployments[i]
		}
	}
	if primary == nil {
		return false, fmt.Sprintf("service %s has no primary deployment", aws.ToString(s.ServiceName))
	}
	if deploymentID != "" && aws.ToString(primary.Id) != deploymentID {
		return false, fmt.Sprintf("primary deployment is %s, not %s (another deployment replaced it)", aws.ToString(primary.Id), deploymentID)
	}
	obs := fmt.Sprintf("%d deployment(s); primary %s rollout %s; %d/%d tasks running",
		len(s.Deployments), aws.ToString(primary.Id), orNone(string(primary.RolloutState)), s.RunningCount, s.DesiredCount)
	if primary.RolloutState == ecstypes.DeploymentRolloutStateFailed {
		return false, obs + ": " + aws.ToString(primary.RolloutStateReason)
	}
	done := len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount &&
		(primary.RolloutState == "" || primary.RolloutState == ecstypes.DeploymentRolloutStateCompleted)
	return done, obs
}

// ecsRedeploy forces a new deployment of a service (fresh tasks from the
// same task definition) and verifies that it completes.
type ecsRedeploy struct{ api ECSAPI }

func (ecsRedeploy) Permissions() []string {
	return []string{"ecs:DescribeServices", "ecs:UpdateService"}
}
func (ecsRedeploy) Params() []Param { return ecsServiceParams }
func (ecsRedeploy) Targets(_ Alarm, p Params) ([]Target, error) {
	return []Target{ecsTarget(p)}, nil
}
func (a ecsRedeploy) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	return ecsOptedIn(ctx, a.api, t, tag)
}

func (ecsRedeploy) Plan(_ context.Context, t Target, _ Params) (Call, string, error) {
	cluster, service := splitService(t)
	return Call{
		API:   "ecs:UpdateService",
		Input: &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), ForceNewDeployment: true},
		Note:  "force a new deployment of ECS service " + service + " in cluster " + cluster,
	}, "", nil
}

func (a ecsRedeploy) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*ecs.UpdateServiceInput](c)
	if err != nil {
		return Result{}, err
	}
	out, err := a.api.UpdateService(ctx, in, onceECS)
	if err != nil {
		return Result{}, fmt.Errorf("force new deployment of ECS service %s in cluster %s: %w", aws.ToString(in.Service), aws.ToString(in.Cluster), err)
	}
	r := Result{Summary: "new deployment of " + aws.ToString(in.Service) + " started"}
	if out.Service != nil {
		for _, d := range out.Service.Deployments {
			if aws.ToString(d.Status) == "PRIMARY" {
				r.Ref = aws.ToString(d.Id)
				r.Summary = "deployment " + r.Ref + " of " + aws.ToString(in.Service) + " started"
			}
		}
	}
	return r, nil
}

func (a ecsRedeploy) Verify(ctx context.Context, t Target, _ Call, r Result) (bool, string, error) {
	s, err := describeService(ctx, a.api, t, false)
	if err != nil {
		return false, "", err
	}
	done, obs := serviceStable(s, r.Ref)
	return done, obs, nil
}

// ecsScale changes a service's desired count by a step, within bounds,
// and verifies that the tasks are running.
type ecsScale struct{ api ECSAPI }

func (ecsScale) Permissions() []string {
	return []string{"ecs:DescribeServices", "ecs:UpdateService"}
}

var scaleParams = []Param{
	{Name: "step", Required: true, Doc: "how many to add (or, negative, remove), e.g. 2"},
	{Name: "min", Required: true, Doc: "never scale below this"},
	{Name: "max", Required: true, Doc: "never scale above this"},
}

func (ecsScale) Params() []Param {
	return append(append([]Param{}, ecsServiceParams...), scaleParams...)
}

func (ecsScale) CheckParams(p Params) map[string]string { return checkScale(p) }

// MaxCount bounds scale parameters (ECS allows 5,000 tasks per service,
// Auto Scaling far fewer instances per group than this).
const MaxCount = 10000

// checkScale checks step, min and max where they are literal.
func checkScale(p Params) map[string]string {
	probs := map[string]string{}
	n := map[string]int{}
	for _, k := range []string{"step", "min", "max"} {
		v, ok := p[k]
		if !ok || isTemplate(v) {
			continue
		}
		i, err := strconv.Atoi(v)
		switch {
		case err != nil:
			probs[k] = fmt.Sprintf("%q is not a whole number", v)
		case k == "step" && i == 0:
			probs[k] = "must not be 0: a step of 0 changes nothing"
		case k != "step" && i < 0:
			probs[k] = fmt.Sprintf("%d: must not be negative", i)
		case i > MaxCount || i < -MaxCount:
			probs[k] = fmt.Sprintf("%d: must be within ±%d", i, MaxCount)
		default:
			n[k] = i
		}
	}
	if lo, ok := n["min"]; ok {
		if hi, ok := n["max"]; ok && lo > hi {
			probs["min"] = fmt.Sprintf("%d is above max %d", lo, hi)
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return probs
}

type scaleBounds struct{ step, lo, hi int }

func parseScale(p Params) (scaleBounds, error) {
	if probs := checkScale(p); len(probs) > 0 {
		for _, k := range []string{"step", "min", "max"} {
			if msg, ok := probs[k]; ok {
				return scaleBounds{}, fmt.Errorf("params.%s: %s", k, msg)
			}
		}
	}
	var b scaleBounds
	var err error
	for k, dst := range map[string]*int{"step": &b.step, "min": &b.lo, "max": &b.hi} {
		if *dst, err = strconv.Atoi(p[k]); err != nil {
			return scaleBounds{}, fmt.Errorf("params.%s: %q is not a whole number", k, p[k])
		}
	}
	return b, nil
}

// next is the desired count after one step from cur, clamped.
func (b scaleBounds) next(cur int) int {
	return max(b.lo, min(b.hi, cur+b.step))
}

func (ecsScale) Targets(_ Alarm, p Params) ([]Target, error) {
	return []Target{ecsTarget(p)}, nil
}
func (a ecsScale) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	return ecsOptedIn(ctx, a.api, t, tag)
}

func (a ecsScale) Plan(ctx context.Context, t Target, p Params) (Call, string, error) {
	b, err := parseScale(p)
	if err != nil {
		return Call{}, "", err
	}
	s, err := describeService(ctx, a.api, t, false)
	if err != nil {
		return Call{}, "", err
	}
	cur := int(s.DesiredCount)
	want := b.next(cur)
	if want == cur {
		return Call{}, fmt.Sprintf("service already at %d tasks, the bound of [%d, %d] for a step of %+d", cur, b.lo, b.hi, b.step), nil
	}
	cluster, service := splitService(t)
	return Call{
		API:   "ecs:UpdateService",
		Input: &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), DesiredCount: aws.Int32(int32(want))}, //nolint:gosec // G115: want is within [min, max], at most MaxCount
		Note:  fmt.Sprintf("scale ECS service %s in cluster %s from %d to %d tasks", service, cluster, cur, want),
	}, "", nil
}

func (a ecsScale) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*ecs.UpdateServiceInput](c)
	if err != nil {
		return Result{}, err
	}
	if _, err := a.api.UpdateService(ctx, in, onceECS); err != nil {
		return Result{}, fmt.Errorf("scale ECS service %s in cluster %s to %d: %w", aws.ToString(in.Service), aws.ToString(in.Cluster), aws.ToInt32(in.DesiredCount), err)
	}
	return Result{Summary: fmt.Sprintf("desired count of %s set to %d", aws.ToString(in.Service), aws.ToInt32(in.DesiredCount))}, nil
}

func (a ecsScale) Verify(ctx context.Context, t Target, c Call, _ Result) (bool, string, error) {
	in, err := mustInput[*ecs.UpdateServiceInput](c)
	if err != nil {
		return false, "", err
	}
	s, err := describeService(ctx, a.api, t, false)
	if err != nil {
		return false, "", err
	}
	want := aws.ToInt32(in.DesiredCount)
	obs := fmt.Sprintf("%d/%d tasks running (asked for %d)", s.RunningCount, s.DesiredCount, want)
	return s.DesiredCount == want && s.RunningCount == want, obs, nil
}
