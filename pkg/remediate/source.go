package remediate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ParameterAPI is the part of *ssm.Client LoadPolicy uses.
type ParameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ ParameterAPI = (*ssm.Client)(nil)

// LoadPolicy reads and parses the policy named by source: "file:<path>"
// or "ssm:<parameter name>" (read with decryption through params). A
// relative path is looked up under dir (the function's directory) and
// then, if absent there, in shipped (the files embedded in the binary;
// may be nil).
func LoadPolicy(ctx context.Context, source string, params ParameterAPI, dir string, shipped fs.FS) (*Policy, error) {
	kind, ref, ok := strings.Cut(source, ":")
	ref = strings.TrimSpace(ref)
	if !ok || ref == "" {
		return nil, fmt.Errorf("policy source %q: must be file:<path> or ssm:<parameter name>", source)
	}
	var data []byte
	switch kind {
	case "file":
		path := ref
		if !filepath.IsAbs(ref) {
			path = filepath.Join(dir, ref)
		}
		b, err := os.ReadFile(path) //nolint:gosec // G304: the path is the function's own configuration, not input
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(ref) && shipped != nil {
			if eb, eerr := fs.ReadFile(shipped, filepath.ToSlash(filepath.Clean(ref))); eerr == nil {
				b, err = eb, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("read remediation policy file: %w", err)
		}
		data = b
	case "ssm":
		if params == nil {
			return nil, fmt.Errorf("read remediation policy from SSM parameter %s: no SSM client", ref)
		}
		out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read remediation policy from SSM parameter %s: %w", ref, err)
		}
		if out.Parameter == nil {
			return nil, fmt.Errorf("read remediation policy from SSM parameter %s: empty answer", ref)
		}
		data = []byte(aws.ToString(out.Parameter.Value))
	default:
		return nil, fmt.Errorf("policy source %q: unknown kind %q (want file or ssm)", source, kind)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("remediation policy %s: %w", source, err)
	}
	return p, nil
}

// String summarises the outcome in one line for a log or a message.
func (o Outcome) String() string {
	s := fmt.Sprintf("alarm %s %s: %s", o.Alarm, o.State, o.Decision)
	if o.Rule != "" {
		s += fmt.Sprintf(" (rule %s, action %s)", o.Rule, o.Action)
	}
	if o.Reason != "" {
		s += ": " + o.Reason
	}
	return s
}
