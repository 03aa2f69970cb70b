package respond

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestMemberAccountEventsNameTheirAccountAndRegion replays AWS events as
// a member account's forwarding rule delivers them on the central bus:
// EventBridge keeps the source account and region in the event's account
// and region fields (EventBridge User Guide, "Sending and receiving events
// between AWS accounts in Amazon EventBridge"). Each message must name
// that account and region, and every console link must point to that
// region, never the central one.
func TestMemberAccountEventsNameTheirAccountAndRegion(t *testing.T) {
	const account, region = "222222222222", "eu-west-1"
	link := regexp.MustCompile(`https://[a-z0-9-]+\.console\.aws\.amazon\.com/\S*`)
	for _, file := range []string{"respond-alarm-cpu.json", "respond-codedeploy-failure.json", "respond-codebuild-failed.json", "respond-pipeline-failed.json"} {
		t.Run(file, func(t *testing.T) {
			r := newRig(t)
			// CodePipeline's own link to the failed action, as the member
			// account's CodePipeline would report it.
			for _, a := range r.pipeline.actions.ActionExecutionDetails {
				if a.Output != nil && a.Output.ExecutionResult != nil && a.Output.ExecutionResult.ExternalExecutionUrl != nil {
					a.Output.ExecutionResult.ExternalExecutionUrl = aws.String(strings.ReplaceAll(*a.Output.ExecutionResult.ExternalExecutionUrl, "us-east-1", region))
				}
			}
			ev := strings.NewReplacer("123456789012", account, "us-east-1", region).Replace(string(readEvent(t, file)))
			if err := r.invoke(t, []byte(ev)); err != nil {
				t.Fatalf("Invoke(%s from %s/%s) error: %v", file, account, region, err)
			}
			if len(r.sns.in) == 0 {
				t.Fatalf("Invoke(%s from %s/%s) published nothing", file, account, region)
			}
			msg := aws.ToString(r.sns.in[0].Message)
			for _, want := range []string{"account " + account, region} {
				if !strings.Contains(msg, want) {
					t.Errorf("message of %s does not name %q:\n%s", file, want, msg)
				}
			}
			links := link.FindAllString(msg, -1)
			if len(links) == 0 {
				t.Errorf("message of %s has no console link:\n%s", file, msg)
			}
			for _, l := range links {
				if !strings.HasPrefix(l, "https://"+region+".console.aws.amazon.com/") || strings.Contains(l, "us-east-1") {
					t.Errorf("message of %s links %s; want the source region %s", file, l, region)
				}
			}
		})
	}
}
