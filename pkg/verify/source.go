package verify

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

// SSMAPI is the part of *ssm.Client the loader uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// S3API is the part of *s3.Client the loader uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Factory returns an S3 client that uses the job's temporary artifact
// credentials; main builds it from the one aws.Config.
type S3Factory func(creds aws.Credentials) S3API

// MaxArtifactBytes caps the zipped input artifact read into memory.
const MaxArtifactBytes = 64 << 20

// ErrConfig marks a problem the pipeline's author must fix (the spec, its
// source or UserParameters): it is reported as ConfigurationError.
var ErrConfig = errors.New("configuration error")

// configErr wraps err so errors.Is(err, ErrConfig) holds while the text
// stays the cause's.
type configErr struct{ err error }

func (e configErr) Error() string            { return e.err.Error() }
func (e configErr) Unwrap() []error          { return []error{ErrConfig, e.err} }
func asConfig(format string, a ...any) error { return configErr{fmt.Errorf(format, a...)} }

// Loader fetches the spec's bytes from where UserParameters says.
type Loader struct {
	SSM SSMAPI
	S3  S3Factory
}

// Loaded is a spec's bytes and where they came from.
type Loaded struct {
	Raw []byte
	// Source says where, for messages: "SSM parameter /x", …
	Source string
	// Secure is set for a spec read from a SecureString parameter: all
	// of its value is secret (see forSpec, forSecureSource).
	Secure bool
}

// Load returns the spec's raw bytes and where they came from. On error
// Source is still set.
func (l Loader) Load(ctx context.Context, p Params, job events.CodePipelineData) (Loaded, error) {
	switch {
	case len(p.Spec) > 0:
		return Loaded{Raw: p.Spec, Source: "inline UserParameters"}, nil
	case p.SSMParameter != "":
		b, secure, err := l.fromSSM(ctx, p.SSMParameter)
		return Loaded{Raw: b, Source: "SSM parameter " + p.SSMParameter, Secure: secure}, err
	default:
		b, err := l.fromArtifact(ctx, p, job)
		return Loaded{Raw: b, Source: "artifact file " + p.ArtifactFile}, err
	}
}

func (l Loader) fromSSM(ctx context.Context, name string) ([]byte, bool, error) {
	if l.SSM == nil {
		return nil, false, errors.New("internal error: no SSM client")
	}
	out, err := l.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		var nf interface{ ErrorCode() string }
		if errors.As(err, &nf) && (nf.ErrorCode() == "ParameterNotFound" || nf.ErrorCode() == "ParameterVersionNotFound") {
			return nil, false, asConfig("SSM parameter %q not found: create it or fix ssmParameter in UserParameters", name)
		}
		if errors.As(err, &nf) && nf.ErrorCode() == "AccessDeniedException" {
			return nil, false, asConfig("reading SSM parameter %q: access denied: grant the verify function ssm:GetParameter on it (and kms:Decrypt for SecureString): %w", name, err)
		}
		return nil, false, fmt.Errorf("get SSM parameter %q: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return nil, false, asConfig("SSM parameter %q has no value", name)
	}
	return []byte(*out.Parameter.Value), out.Parameter.Type == ssmtypes.ParameterTypeSecureString, nil
}

func (l Loader) fromArtifact(ctx context.Context, p Params, job events.CodePipelineData) ([]byte, error) {
	art, err := pickArtifact(p.Artifact, job.InputArtifacts)
	if err != nil {
		return nil, err
	}
	loc := art.Location.S3Location
	if loc.BucketName == "" || loc.ObjectKey == "" {
		return nil, asConfig("input artifact %q has no S3 location", art.Name)
	}
	if l.S3 == nil {
		return nil, errors.New("internal error: no S3 client factory")
	}
	c := job.ArtifactCredentials
	client := l.S3(aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "CodePipelineArtifactCredentials"})
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.BucketName), Key: aws.String(loc.ObjectKey)})
	if err != nil {
		return nil, fmt.Errorf("get input artifact %q (s3://%s/%s): %w", art.Name, loc.BucketName, loc.ObjectKey, err)
	}
	defer func() { _ = out.Body.Close() }()
	if out.ContentLength != nil && *out.ContentLength > MaxArtifactBytes {
		return nil, asConfig("input artifact %q is %d bytes; verify reads artifacts up to %d bytes: give the action a smaller artifact holding the spec", art.Name, *out.ContentLength, MaxArtifactBytes)
	}
	zipped, err := io.ReadAll(io.LimitReader(out.Body, MaxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read input artifact %q: %w", art.Name, err)
	}
	if len(zipped) > MaxArtifactBytes {
		return nil, asConfig("input artifact %q is over %d bytes: give the action a smaller artifact holding the spec", art.Name, MaxArtifactBytes)
	}
	return extractFile(zipped, p.ArtifactFile, art.Name)
}

func pickArtifact(name string, arts []events.CodePipelineInputArtifact) (events.CodePipelineInputArtifact, error) {
	names := make([]string, len(arts))
	for i, a := range arts {
		names[i] = a.Name
		if name != "" && a.Name == name {
			return a, nil
		}
	}
	switch {
	case len(arts) == 0:
		return events.CodePipelineInputArtifact{}, asConfig("artifactFile is set but the action has no input artifact: add the artifact holding the spec as an input")
	case name != "":
		return events.CodePipelineInputArtifact{}, asConfig("no input artifact named %q (inputs: %s)", name, strings.Join(names, ", "))
	case len(arts) > 1:
		return events.CodePipelineInputArtifact{}, asConfig("the action has %d input artifacts (%s): name one with \"artifact\" in UserParameters", len(arts), strings.Join(names, ", "))
	}
	return arts[0], nil
}

// extractFile reads one file from a zip in memory, refusing to inflate
// more than spec.MaxSpecBytes of it (zip bombs).
func extractFile(zipped []byte, name, artifact string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, asConfig("input artifact %q is not a zip file (CodePipeline artifacts are zips): %v", artifact, err)
	}
	var listed []string
	for _, f := range zr.File {
		fn, ok := cleanZipPath(f.Name)
		if !ok || fn != name {
			if len(listed) < 10 && !strings.HasSuffix(f.Name, "/") {
				listed = append(listed, f.Name)
			}
			continue
		}
		return readSpecFile(f, name, artifact)
	}
	return nil, asConfig("no file %q in input artifact %q (it holds: %s)", name, artifact, strings.Join(listed, ", "))
}

// readSpecFile reads one zip entry, refusing one that is (or inflates to)
// more than spec.MaxSpecBytes.
func readSpecFile(f *zip.File, name, artifact string) ([]byte, error) {
	if f.UncompressedSize64 > spec.MaxSpecBytes {
		return nil, asConfig("%s in artifact %q is %d bytes; a spec may be at most %d", name, artifact, f.UncompressedSize64, spec.MaxSpecBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, asConfig("open %s in artifact %q: %v", name, artifact, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, spec.MaxSpecBytes+1))
	if err != nil {
		return nil, asConfig("read %s in artifact %q: %v", name, artifact, err)
	}
	if len(b) > spec.MaxSpecBytes {
		return nil, asConfig("%s in artifact %q inflates past %d bytes", name, artifact, spec.MaxSpecBytes)
	}
	return b, nil
}

// cleanZipPath normalises a path inside a zip; ok is false for paths that
// escape it.
func cleanZipPath(p string) (string, bool) {
	p = strings.ReplaceAll(p, "\\", "/")
	if p == "" || strings.HasPrefix(p, "/") {
		return "", false
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}
