package standin

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// GetSecretValue through the real SDK client, as the API reference
// describes it
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html):
// AWSCURRENT by default, AWSPREVIOUS after a PutSecretValue, typed
// ResourceNotFoundException for a secret or staging label that does not
// exist, the secret found by name or ARN.
func TestSecretsManagerGetSecretValue(t *testing.T) {
	s := StartT(t, Scenario{})
	c := secretsmanager.NewFromConfig(s.Config())
	ctx := context.Background()
	arn := s.PutSecret("postdeploy/token-key", "first-value")
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:"+Region+":"+AccountID+":secret:postdeploy/token-key-") {
		t.Errorf("PutSecret ARN = %q; want a secret ARN with a random suffix", arn)
	}

	get := func(id, stage string) (*secretsmanager.GetSecretValueOutput, error) {
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
		if stage != "" {
			in.VersionStage = aws.String(stage)
		}
		return c.GetSecretValue(ctx, in)
	}
	out, err := get("postdeploy/token-key", "")
	if err != nil || aws.ToString(out.SecretString) != "first-value" || aws.ToString(out.ARN) != arn || len(out.VersionStages) != 1 || out.VersionStages[0] != "AWSCURRENT" {
		t.Fatalf("GetSecretValue(name) = %+v, %v; want first-value labelled AWSCURRENT", out, err)
	}
	var nf *smtypes.ResourceNotFoundException
	if _, err := get("postdeploy/token-key", "AWSPREVIOUS"); !errors.As(err, &nf) || !strings.Contains(err.Error(), "staging label: AWSPREVIOUS") {
		t.Errorf("GetSecretValue(AWSPREVIOUS) of a secret never rotated = %v; want ResourceNotFoundException", err)
	}

	s.PutSecret("postdeploy/token-key", "second-value")
	tests := []struct {
		name, id, stage, want string
	}{
		{"current by name", "postdeploy/token-key", "AWSCURRENT", "second-value"},
		{"previous by ARN", arn, "AWSPREVIOUS", "first-value"},
		{"default stage", arn, "", "second-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := get(tt.id, tt.stage)
			if err != nil || aws.ToString(out.SecretString) != tt.want {
				t.Errorf("GetSecretValue(%q, %q) = %v, %v; want %q", tt.id, tt.stage, out, err, tt.want)
			}
		})
	}
	s.PutSecret("postdeploy/token-key", "third-value")
	if out, err := get(arn, "AWSPREVIOUS"); err != nil || aws.ToString(out.SecretString) != "second-value" {
		t.Errorf("after a second rotation AWSPREVIOUS = %v, %v; want second-value", out, err)
	}

	if _, err := get("no/such/secret", ""); !errors.As(err, &nf) {
		t.Errorf("GetSecretValue(unknown) = %v; want ResourceNotFoundException", err)
	}
	var apiErr smithy.APIError
	if _, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("")}); !errors.As(err, &apiErr) {
		t.Errorf("GetSecretValue(no SecretId) = %v; want an API error", err)
	}
	if calls := s.CallsTo(SecretsManager, "GetSecretValue"); len(calls) == 0 || calls[0].Protocol != ProtoJSON11 {
		t.Errorf("calls = %+v; want GetSecretValue recorded on awsJson1_1", calls)
	}
}

func TestEnsureSecretKeepsAnExistingValue(t *testing.T) {
	s := StartT(t, Scenario{})
	arn := s.EnsureSecret("k")
	c := secretsmanager.NewFromConfig(s.Config())
	first, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")})
	if err != nil || len(aws.ToString(first.SecretString)) != 64 {
		t.Fatalf("EnsureSecret value = %v, %v; want 64 random hex characters", first, err)
	}
	if again := s.EnsureSecret("k"); again != arn {
		t.Errorf("EnsureSecret twice = %q, %q; want the same secret", arn, again)
	}
	second, _ := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")})
	if aws.ToString(second.SecretString) != aws.ToString(first.SecretString) {
		t.Error("EnsureSecret on an existing secret changed its value")
	}
}
