package standin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// SecretsManager is the service name of AWS Secrets Manager, served on
// awsJson1_1 with X-Amz-Target "secretsmanager.<Operation>".
const SecretsManager = "secretsmanager"

// The staging labels Secrets Manager moves on PutSecretValue.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// secretsState is the stand-in's Secrets Manager: secrets by name.
type secretsState struct {
	byName map[string]*secret
}

type secret struct {
	name, arn string
	versions  []*secretVersion // oldest first
}

type secretVersion struct {
	id      string
	value   string
	stages  []string
	created time.Time
}

// PutSecret stores value as a new version of the secret name, creating
// the secret if needed, and returns the secret's ARN. Like
// PutSecretValue, the new version gets AWSCURRENT and the version that
// had it gets AWSPREVIOUS (which leaves the version before that), so two
// calls model a rotation.
func (s *Server) PutSecret(name, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putSecretLocked(name, value)
}

// EnsureSecret creates the secret name with a random 64-character value
// unless it exists, and returns its ARN: the local harness gives verify
// its continuation-token key this way.
func (s *Server) EnsureSecret(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec, ok := s.st.secrets.byName[name]; ok {
		return sec.arn
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	return s.putSecretLocked(name, hex.EncodeToString(b[:]))
}

func (s *Server) putSecretLocked(name, value string) string {
	if s.st.secrets.byName == nil {
		s.st.secrets.byName = map[string]*secret{}
	}
	sec, ok := s.st.secrets.byName[name]
	if !ok {
		// A secret's ARN ends in a hyphen and six random characters.
		var b [3]byte
		_, _ = rand.Read(b[:])
		sec = &secret{name: name, arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", Region, AccountID, name, hex.EncodeToString(b[:]))}
		s.st.secrets.byName[name] = sec
	}
	for _, v := range sec.versions {
		v.stages = slices.DeleteFunc(v.stages, func(st string) bool { return st == stagePrevious })
		if slices.Contains(v.stages, stageCurrent) {
			v.stages = slices.DeleteFunc(v.stages, func(st string) bool { return st == stageCurrent })
			v.stages = append(v.stages, stagePrevious)
		}
	}
	s.st.seq++
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.st.seq, len(sec.versions)+1)
	sec.versions = append(sec.versions, &secretVersion{id: id, value: value, stages: []string{stageCurrent}, created: s.now()})
	return sec.arn
}

// smGetSecretValue answers GetSecretValue
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html):
// SecretId is the name or the full ARN; without VersionId or VersionStage
// the AWSCURRENT version is returned; a secret, version or staging label
// that does not exist is a ResourceNotFoundException, and VersionId and
// VersionStage that name different versions are an
// InvalidParameterException.
func smGetSecretValue(s *Server, req *request) (any, error) {
	id := str(req.input, "SecretId")
	if id == "" {
		return nil, validation("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	var sec *secret
	for _, c := range s.st.secrets.byName {
		if c.name == id || c.arn == id {
			sec = c
			break
		}
	}
	if sec == nil {
		return nil, apiErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	versionID, stage := str(req.input, "VersionId"), str(req.input, "VersionStage")
	if versionID == "" && stage == "" {
		stage = stageCurrent
	}
	var found *secretVersion
	for _, v := range sec.versions {
		if (versionID == "" || v.id == versionID) && (stage == "" || slices.Contains(v.stages, stage)) {
			found = v
		}
	}
	if found == nil {
		switch {
		case versionID != "" && stage != "":
			return nil, apiErr(400, "InvalidParameterException", "You provided a VersionStage that is not attached to the version %s.", versionID)
		case versionID != "":
			return nil, apiErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
		}
		return nil, apiErr(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return map[string]any{
		"ARN": sec.arn, "Name": sec.name, "VersionId": found.id, "SecretString": found.value,
		"VersionStages": stagesList(found.stages), "CreatedDate": found.created,
	}, nil
}

func stagesList(stages []string) []any {
	out := make([]any, len(stages))
	for i, st := range stages {
		out[i] = st
	}
	return out
}
