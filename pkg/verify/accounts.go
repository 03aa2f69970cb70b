package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/contract"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// SessionPrefix starts the RoleSessionName of every role session verify
// opens; the CodePipeline job id follows, so CloudTrail in the role's
// account ties each call to the job (and, through GetJobDetails, to the
// pipeline execution).
const SessionPrefix = "postdeploy-verify"

// build turns the spec into its checks. A spec may name other accounts and
// regions (spec.Where): with STS and BuildWith set, the invocation gets its
// own Assumer — credentials cached per role and region for this invocation
// only, the session named after the job — and the checks are built with it.
func (v *Verifier) build(s spec.Spec, inv *invocation) (check.Suite, error) {
	if v.BuildWith == nil || v.STS == nil {
		return v.Build(s)
	}
	inv.assumer = awsclient.NewAssumer(v.STS, awsclient.SessionName(SessionPrefix, inv.jobID))
	return v.BuildWith(s, inv.assumer)
}

// targets lists the distinct roles the spec's AWS checks assume, in spec
// order.
func targets(s spec.Spec) []awsclient.Target {
	var ts []awsclient.Target
	seen := map[awsclient.Target]bool{}
	for i, c := range s.Checks {
		w := s.Of(i)
		if !c.CallsAWS() || w.RoleARN == "" {
			continue
		}
		t := awsclient.Target{RoleARN: w.RoleARN, ExternalID: w.ExternalID, Region: w.Region}
		if !seen[t] {
			seen[t] = true
			ts = append(ts, t)
		}
	}
	return ts
}

// preflight assumes every role the spec names before any check runs, so a
// role that cannot be assumed or a region that is not enabled ends the job
// at once with the reason, the role, the account and the fix:
//   - AccessDenied (the trust policy, the external id, or this function's
//     own sts:AssumeRole permission) is a PermissionError for CodePipeline;
//   - a region not enabled for the account (STS's RegionDisabledException)
//     or one that does not exist is a ConfigurationError: the spec names it;
//   - anything else (throttling, an outage) is SystemUnavailable: retry.
//
// stop is false when every role was assumed (the credentials are cached for
// the checks).
func (v *Verifier) preflight(ctx context.Context, inv *invocation, s spec.Spec) (d decision, stop bool) {
	if inv.assumer == nil {
		return decision{}, false
	}
	for _, t := range targets(s) {
		err := inv.assumer.Check(ctx, t)
		if err == nil {
			continue
		}
		var ae *awsclient.AssumeError
		kind := awsclient.RefusedTransient
		if errors.As(err, &ae) {
			kind = ae.Kind
		}
		ft := map[awsclient.Refusal]cptypes.FailureType{
			awsclient.RefusedPermission: cptypes.FailureTypePermissionError,
			awsclient.RefusedRegion:     cptypes.FailureTypeConfigurationError,
		}[kind]
		if ft == "" {
			ft = cptypes.FailureTypeSystemUnavailable
		}
		inv.log.WarnContext(ctx, "could not assume a role the spec names; nothing was checked", "roleArn", t.RoleARN, "region", t.Region, "failureType", string(ft), "error", err.Error())
		msg := clip("Post-deploy verification cannot look at account "+t.Account()+": "+err.Error(), MaxFailureMessage)
		return decision{final: true, failureType: ft, text: msg, event: refusedEvent(inv, msg)}, true
	}
	return decision{}, false
}

// refused turns a failed verification whose checks were refused by IAM in
// another account into a PermissionError naming each refusal (the role,
// the IAM action and the fix) ahead of the usual message: the release may
// be fine, the access is what is broken.
func (v *Verifier) refused(inv *invocation, d decision) decision {
	if inv.assumer == nil || d.ok || !d.final || d.failureType != cptypes.FailureTypeJobFailed {
		return d
	}
	rs := inv.assumer.Refusals()
	if len(rs) == 0 {
		return d
	}
	items := []string{fmt.Sprintf("Post-deploy verification was refused access by IAM (%d refusal(s)); fix the access and retry the stage:", len(rs))}
	for _, r := range rs {
		items = append(items, "- "+r.Error())
	}
	d.failureType = cptypes.FailureTypePermissionError
	d.text = clip(strings.Join(items, "\n")+"\n\n"+d.text, MaxFailureMessage)
	return d
}

// refusedEvent is the verification event of a job refused before any
// check ran.
func refusedEvent(inv *invocation, msg string) *contract.VerificationCompleted {
	info := inv.info
	return &contract.VerificationCompleted{Verdict: verdict.Error, JobID: inv.jobID, Pipeline: info.pipeline, ExecutionID: info.executionID,
		Stage: info.stage, Action: info.action, Summary: clip(msg, MaxSummary), FailedChecks: []string{}, Checks: []verdict.Result{}}
}
