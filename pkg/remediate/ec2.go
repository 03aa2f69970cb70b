package remediate

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2API is the part of *ec2.Client the actions use.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	RebootInstances(ctx context.Context, in *ec2.RebootInstancesInput, optFns ...func(*ec2.Options)) (*ec2.RebootInstancesOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// ec2Reboot reboots one instance (ec2:RebootInstances) and verifies that
// it is running with both status checks ok.
type ec2Reboot struct{ api EC2API }

func (ec2Reboot) Permissions() []string {
	return []string{"ec2:DescribeInstanceStatus", "ec2:DescribeInstances", "ec2:RebootInstances"}
}

func (ec2Reboot) Params() []Param {
	return []Param{{Name: "instanceId", Required: true, Doc: "the instance to reboot, e.g. {{.Dimensions.InstanceId}}"}}
}

func (ec2Reboot) CheckParams(p Params) map[string]string {
	return checkInstanceID(p, "instanceId")
}

func checkInstanceID(p Params, name string) map[string]string {
	if v, ok := p[name]; ok && !isTemplate(v) && !strings.HasPrefix(v, "i-") {
		return map[string]string{name: fmt.Sprintf("%q is not an instance id (i-...)", v)}
	}
	return nil
}

func (ec2Reboot) Targets(_ Alarm, p Params) ([]Target, error) {
	return []Target{{Type: "ec2-instance", ID: p["instanceId"]}}, nil
}

func (a ec2Reboot) OptedIn(ctx context.Context, t Target, tag Tag) (bool, string, error) {
	return instanceOptedIn(ctx, a.api, t.ID, tag)
}

func instanceOptedIn(ctx context.Context, api EC2API, id string, tag Tag) (bool, string, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return false, "", fmt.Errorf("describe instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) != id {
				continue
			}
			tags := map[string]string{}
			for _, t := range in.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			ok, obs := tag.check(tags)
			return ok, obs, nil
		}
	}
	return false, "instance not found", nil
}

func (ec2Reboot) Plan(_ context.Context, t Target, _ Params) (Call, string, error) {
	return Call{
		API:   "ec2:RebootInstances",
		Input: &ec2.RebootInstancesInput{InstanceIds: []string{t.ID}},
		Note:  "reboot instance " + t.ID,
	}, "", nil
}

func (a ec2Reboot) Do(ctx context.Context, c Call) (Result, error) {
	in, err := mustInput[*ec2.RebootInstancesInput](c)
	if err != nil {
		return Result{}, err
	}
	if _, err := a.api.RebootInstances(ctx, in, onceEC2); err != nil {
		return Result{}, fmt.Errorf("reboot instance %s: %w", strings.Join(in.InstanceIds, ","), err)
	}
	return Result{Summary: "reboot of " + strings.Join(in.InstanceIds, ",") + " requested"}, nil
}

func (a ec2Reboot) Verify(ctx context.Context, t Target, _ Call, _ Result) (bool, string, error) {
	out, err := a.api.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{t.ID}, IncludeAllInstances: aws.Bool(true),
	})
	if err != nil {
		return false, "", fmt.Errorf("describe status of instance %s: %w", t.ID, err)
	}
	for _, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) != t.ID {
			continue
		}
		var state ec2types.InstanceStateName
		if s.InstanceState != nil {
			state = s.InstanceState.Name
		}
		var inst, sys ec2types.SummaryStatus
		if s.InstanceStatus != nil {
			inst = s.InstanceStatus.Status
		}
		if s.SystemStatus != nil {
			sys = s.SystemStatus.Status
		}
		obs := fmt.Sprintf("instance %s %s, instance status %s, system status %s", t.ID, state, orNone(string(inst)), orNone(string(sys)))
		return state == ec2types.InstanceStateNameRunning && inst == ec2types.SummaryStatusOk && sys == ec2types.SummaryStatusOk, obs, nil
	}
	return false, "instance " + t.ID + " not found", nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
