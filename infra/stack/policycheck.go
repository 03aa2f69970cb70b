package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/postdeploy/postdeploy/pkg/remediate"
)

// checkPolicyFiles reads each file remediation policy the stack deploys
// beside a binary (AssetDir/<fn>/<path>) and reports where it disagrees
// with what IAM is built from: its optInTag must be Props.OptInTag (the
// tag the IAM conditions require) and every runbook its ssm.runbook rules
// start must be in Props.Runbooks (the runbooks IAM lets remediate
// start). The policy remediate embeds (functions/remediate/policy.yaml)
// is checked by the package's tests; an ssm: policy is read at run time,
// so the context must match it by hand (infra/README.md says so).
func checkPolicyFiles(p Props) error {
	ref, ok := strings.CutPrefix(p.RemediationPolicy, "file:")
	if !ok {
		return nil
	}
	var errs []string
	for _, fn := range []string{Remediate, Respond} {
		path := filepath.Join(p.AssetDir, fn, ref)
		data, err := os.ReadFile(path) //nolint:gosec // G304: the deployer's own asset directory and policy path (context), not input
		if err != nil {
			continue // checkAssets reports a file that must be there
		}
		pol, err := remediate.ParsePolicy(data)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		errs = append(errs, policyMismatches(path, pol, p)...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("remediation policy and stack disagree:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// policyMismatches lists where pol disagrees with the IAM p builds.
func policyMismatches(name string, pol *remediate.Policy, p Props) []string {
	var errs []string
	if pol.OptInTag != p.OptInTag {
		errs = append(errs, fmt.Sprintf("%s: optInTag %s, but IAM requires %s on every mutating action that supports a tag condition; set the %q context to the policy's tag",
			name, pol.OptInTag, p.OptInTag, CtxOptInTag))
	}
	for i, r := range pol.Rules {
		if r.Action != "ssm.runbook" {
			continue
		}
		if doc := r.Params["document"]; !slices.Contains(p.Runbooks, doc) {
			errs = append(errs, fmt.Sprintf("%s: rules[%d] (%s) starts runbook %q, which IAM does not allow; add it to the %q context (now %v)",
				name, i, r.Name, doc, CtxRunbooks, p.Runbooks))
		}
	}
	return errs
}
