package remediate

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// AutoScalingAPI is the part of *autoscaling.Client the actions use.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
}

var _ AutoScalingAPI = (*autoscaling.Client)(nil)

// asgScale changes an Auto Scaling group's desired capacity by a step,
// within the rule's bounds and the group's own min and max, and verifies
// that that many instances are in service.
type asgScale struct{ api AutoScalingAPI }

func (asgScale) Permissions() []string {
	return []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity"}
}

func (asgScale) Params() []Param {
	return append([]Param{{Name: "group", Required: true, Doc: "the group, e.g. {{.Dimensions.AutoScalingGroupName}}"}}, scaleParams...)
}

func (asgScale) CheckParams(p Params) map[string]string { return checkScale(p) }

func (asgScale) Targets(_ Alarm, p Params) ([]Target, error) {
	return []Target{{Type: "autoscaling-group", ID: p["group"]}}, nil
}

func (a asgScale) group(ctx context.Context, name string) (astypes.AutoScalingGroup, error) {
	out, err := a.api.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return astypes.AutoScalingGroup{}, fmt.Errorf("describe Auto Scaling group %s: %w", name, err)
	}
	for _, g := range out.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == name {
			return g, nil
		}
	}
	return astypes.AutoScalingGroup{}, fmt.Errorf("no Auto Scaling group named %s", name)
}

func (a asgScale) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	g, err := a.group(ctx, t.ID)
	if err != nil {
		return false, "", err
	}
	tags := map[string]string{}
	for _, x := range g.Tags {
		tags[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	ok, obs := tag.check(tags)
	return ok, obs, nil
}

func (a asgScale) Plan(ctx context.Context, t Target, p Params) (Call, string, error) {
	b, err := parseScale(p)
	if err != nil {
		return Call{}, "", err
	}
	g, err := a.group(ctx, t.ID)
	if err != nil {
		return Call{}, "", err
	}
	// The group's own bounds too: SetDesiredCapacity outside them fails.
	b.lo = max(b.lo, int(aws.ToInt32(g.MinSize)))
	b.hi = min(b.hi, int(aws.ToInt32(g.MaxSize)))
	cur := int(aws.ToInt32(g.DesiredCapacity))
	want := b.next(cur)
	if want == cur {
		return Call{}, fmt.Sprintf("group already at %d instances, the bound of [%d, %d] for a step of %+d", cur, b.lo, b.hi, b.step), nil
	}
	return Call{
		API: "autoscaling:SetDesiredCapacity",
		Input: &autoscaling.SetDesiredCapacityInput{
			AutoScalingGroupName: aws.String(t.ID), DesiredCapacity: aws.Int32(int32(want)), HonorCooldown: aws.Bool(true), //nolint:gosec // G115: want is within [min, max], at most MaxCount
		},
		Note: fmt.Sprintf("scale Auto Scaling group %s from %d to %d instances", t.ID, cur, want),
	}, "", nil
}

func (a asgScale) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*autoscaling.SetDesiredCapacityInput](c)
	if err != nil {
		return Result{}, err
	}
	if _, err := a.api.SetDesiredCapacity(ctx, in, onceAutoScaling); err != nil {
		return Result{}, fmt.Errorf("set desired capacity of %s to %d: %w", aws.ToString(in.AutoScalingGroupName), aws.ToInt32(in.DesiredCapacity), err)
	}
	return Result{Summary: fmt.Sprintf("desired capacity of %s set to %d", aws.ToString(in.AutoScalingGroupName), aws.ToInt32(in.DesiredCapacity))}, nil
}

func (a asgScale) Verify(ctx context.Context, t Target, c Call, _ Result) (bool, string, error) {
	in, err := mustInput[*autoscaling.SetDesiredCapacityInput](c)
	if err != nil {
		return false, "", err
	}
	g, err := a.group(ctx, t.ID)
	if err != nil {
		return false, "", err
	}
	healthy := 0
	for _, i := range g.Instances {
		if i.LifecycleState == astypes.LifecycleStateInService && aws.ToString(i.HealthStatus) == "Healthy" {
			healthy++
		}
	}
	want := int(aws.ToInt32(in.DesiredCapacity))
	obs := fmt.Sprintf("%d healthy instances in service, desired %d (asked for %d)", healthy, aws.ToInt32(g.DesiredCapacity), want)
	return healthy == want, obs, nil
}
