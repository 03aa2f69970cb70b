package verify

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/config"
)

// The continuation-token key.
//
// Where it lives: a Secrets Manager secret the stack creates (a random
// SecretString of at least MinTokenKeyBytes characters) and names in
// config.EnvTokenKeySecret; the verify function may only
// secretsmanager:GetSecretValue it. verify reads the secret's AWSCURRENT
// and AWSPREVIOUS versions once per cold start (TokenKeySource), signs
// every token with AWSCURRENT and accepts a token signed with either.
//
// How it rotates: put a new value (PutSecretValue, or rotation), which
// Secrets Manager labels AWSCURRENT while the old one becomes
// AWSPREVIOUS. Instances started before the rotation keep signing with
// the old key; those started after sign with the new one and still
// accept the old. Once every instance has cold-started since (Lambda
// recycles an execution environment within hours; a deploy or a
// configuration change recycles them all at once) and the bakes signed
// with the old key are over (24 hours at most, CodePipeline's limit on
// the action), the old key is out of use. Rotate again only after that:
// a second rotation drops the first key from AWSPREVIOUS, and a bake
// still carrying a token signed with it is refused (the stage is then
// retried, which starts a fresh bake).

// MinTokenKeyBytes is the shortest key verify accepts: HMAC-SHA256's
// block of security (RFC 2104 recommends a key no shorter than the hash
// output, 32 bytes).
const MinTokenKeyBytes = 32

// Version stages verify reads ("AWSCURRENT", "AWSPREVIOUS": GetSecretValue,
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// SecretsManagerAPI is the part of *secretsmanager.Client verify uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// TokenKeys signs and checks continuation tokens: current signs, current
// or previous are accepted.
type TokenKeys struct {
	current, previous []byte
}

// NewTokenKeys returns the keys; previous may be nil (never rotated).
func NewTokenKeys(current, previous []byte) (TokenKeys, error) {
	if len(current) < MinTokenKeyBytes {
		return TokenKeys{}, fmt.Errorf("the current token key is %d bytes; it must be at least %d", len(current), MinTokenKeyBytes)
	}
	if previous != nil && len(previous) < MinTokenKeyBytes {
		return TokenKeys{}, fmt.Errorf("the previous token key is %d bytes; it must be at least %d", len(previous), MinTokenKeyBytes)
	}
	return TokenKeys{current: current, previous: previous}, nil
}

// IsZero reports whether no key is set.
func (k TokenKeys) IsZero() bool { return len(k.current) == 0 }

// Keys returns k: fixed keys are a KeySource too (tests, tools).
func (k TokenKeys) Keys(context.Context) (TokenKeys, error) {
	if k.IsZero() {
		return k, asConfig("no continuation-token key is set")
	}
	return k, nil
}

// KeySource gives the verifier its token keys.
type KeySource interface {
	Keys(ctx context.Context) (TokenKeys, error)
}

var (
	_ KeySource = TokenKeys{}
	_ KeySource = (*TokenKeySource)(nil)
)

// TokenKeySource reads the token keys from Secrets Manager once and keeps
// them: the first successful read is used for the life of the execution
// environment. A failed read is retried on the next call, so a throttled
// cold start or a grant fixed after it does not leave the instance
// failing every job.
type TokenKeySource struct {
	API SecretsManagerAPI
	// SecretID is the secret's ARN or name.
	SecretID string

	mu   sync.Mutex
	keys TokenKeys
}

// Keys returns the keys, reading them on first use.
func (s *TokenKeySource) Keys(ctx context.Context) (TokenKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.keys.IsZero() {
		return s.keys, nil
	}
	k, err := LoadTokenKeys(ctx, s.API, s.SecretID)
	if err != nil {
		return TokenKeys{}, err
	}
	s.keys = k
	return k, nil
}

// LoadTokenKeys reads the AWSCURRENT and AWSPREVIOUS versions of the
// secret. A missing AWSPREVIOUS (a secret never rotated) is no error:
// GetSecretValue answers ResourceNotFoundException for a staging label no
// version carries. A problem the stack must fix (no such secret, access
// denied, a value too short) is marked with ErrConfig.
func LoadTokenKeys(ctx context.Context, api SecretsManagerAPI, secretID string) (TokenKeys, error) {
	if api == nil || secretID == "" {
		return TokenKeys{}, asConfig("no token key secret is configured")
	}
	current, err := secretValue(ctx, api, secretID, stageCurrent)
	if err != nil {
		return TokenKeys{}, err
	}
	previous, err := secretValue(ctx, api, secretID, stagePrevious)
	var nf *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		previous = nil
	case err != nil:
		return TokenKeys{}, err
	}
	k, err := NewTokenKeys(current, previous)
	if err != nil {
		return TokenKeys{}, asConfig("token key secret %s: %v: store a random value of at least %d characters", secretID, err, MinTokenKeyBytes)
	}
	return k, nil
}

func secretValue(ctx context.Context, api SecretsManagerAPI, secretID, stage string) ([]byte, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(stage)})
	if err != nil {
		var nf *smtypes.ResourceNotFoundException
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &nf) && stage == stagePrevious:
			return nil, err // no previous version: not a problem
		case errors.As(err, &nf):
			return nil, configErr{fmt.Errorf("token key secret %s has no %s version: create the secret (the postdeploy stack does) or fix %s: %w", secretID, stage, config.EnvTokenKeySecret, err)}
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
			return nil, configErr{fmt.Errorf("reading token key secret %s: access denied: grant the verify function secretsmanager:GetSecretValue on it (and kms:Decrypt on its key if it uses a customer managed one): %w", secretID, err)}
		}
		return nil, fmt.Errorf("read token key secret %s (%s): %w", secretID, stage, err)
	}
	switch {
	case out.SecretString != nil:
		return []byte(*out.SecretString), nil
	case out.SecretBinary != nil:
		return out.SecretBinary, nil
	}
	return nil, asConfig("token key secret %s (%s) has no value", secretID, stage)
}
