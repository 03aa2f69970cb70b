package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

func keysOf(t testing.TB, current, previous string) TokenKeys {
	t.Helper()
	var prev []byte
	if previous != "" {
		prev = []byte(previous)
	}
	k, err := NewTokenKeys([]byte(current), prev)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	keyA = "key-A-0123456789abcdef0123456789abcdef"
	keyB = "key-B-0123456789abcdef0123456789abcdef"
	keyC = "key-C-0123456789abcdef0123456789abcdef"
)

// resign replaces a token's payload and signs it with key, as an
// attacker holding the key could (tests of what even an authentic token
// may not say).
func resign(t testing.TB, k TokenKeys, payload string) string {
	t.Helper()
	return tokenTag + "." + base64.RawURLEncoding.EncodeToString(mac(k.current, payload)) + "." + payload
}

// A token verify did not write is refused, with the cause named: the
// issue's forged tally, an unsigned token, a signature under another key,
// and the too-large and unknown-field tokens.
func TestForgedTokensAreRefused(t *testing.T) {
	params := inlineSpec("10m", "1m", "health")
	e0 := newEnv(nil)
	st := NewState(e0.clock.Now().Add(-2*time.Minute), SpecHash(specBytes(t, params)), 1)
	st.Samples, st.Checks[0].Tally = 2, verdict.Tally{Succeeded: 1, Failed: 1}
	good, err := testKeys.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	payload := good[tokenOverhead:]
	macPart := good[:tokenOverhead]
	v1, _ := json.Marshal(map[string]any{"v": 1, "t": st.StartMS, "n": 2, "h": st.SpecHash, "c": []map[string]int{{"s": 1, "f": 1}}})

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"tally rewritten, signature kept", macPart + strings.Replace(payload, `"f":1`, `"f":-1000`, 1), "signature does not match"},
		{"unsigned (version 1 format)", string(v1), "unsigned"},
		{"signed under another key", keysOf(t, keyC, "").mustEncode(t, st), "signature does not match"},
		{"not verify's format", "deploy-1234", "not one verify wrote"},
		{"malformed signature", tokenTag + ".!!!." + payload, "signature is malformed"},
		{"too large (200 KB of unknown fields)", macPart + strings.Replace(payload, `"v":2`, `"v":2,"x":"`+strings.Repeat("A", 200<<10)+`"`, 1), "characters; verify writes at most 2048"},
		{"unknown field, signed", resign(t, testKeys, strings.Replace(payload, `"v":2`, `"v":2,"x":1`, 1)), `unknown field "x"`},
		{"other version, signed", resign(t, testKeys, strings.Replace(payload, `"v":2`, `"v":3`, 1)), "version 3"},
		{"forged tally, signed", resign(t, testKeys, strings.Replace(payload, `"f":1`, `"f":-1000`, 1)), "count of -1000"},
		{"start 30 days ago, signed", resign(t, testKeys, strings.Replace(payload, fmt.Sprint(st.StartMS), fmt.Sprint(st.StartMS-30*24*3600*1000), 1)), "ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := &scripted{result: pass}
			e := newEnv(sm)
			if err := e.invoke(t, jobEvent(t, "job-f", params, tt.token), time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(e.cp.failures) != 1 || e.cp.reports() != 1 {
				t.Fatalf("reports = %d successes, %d failures; want exactly 1 failure", len(e.cp.successes), len(e.cp.failures))
			}
			fd := e.cp.failures[0].FailureDetails
			if msg := aws.ToString(fd.Message); fd.Type != cptypes.FailureTypeJobFailed || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "refused to resume") {
				t.Errorf("failure = %s %q; want JobFailed refusing the token and naming the cause (%q)", fd.Type, msg, tt.want)
			}
			if sm.samples != 0 {
				t.Errorf("took %d samples on a refused token; want none", sm.samples)
			}
		})
	}

	// The genuine token resumes the bake, and its failed sample counts:
	// the check fails (failFast) after one more sample.
	t.Run("the genuine token resumes", func(t *testing.T) {
		sm := &scripted{result: pass}
		e := newEnv(sm)
		if err := e.invoke(t, jobEvent(t, "job-g", params, good), time.Minute); err != nil {
			t.Fatal(err)
		}
		if len(e.cp.failures) != 1 || sm.samples != 1 {
			t.Fatalf("genuine token: %d failures, %d samples; want it resumed for one sample, then failed", len(e.cp.failures), sm.samples)
		}
		if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, "FAILED health") || !strings.Contains(msg, "3 samples: 1 failed, 2 passed") {
			t.Errorf("failure = %q; want the carried failure counted", msg)
		}
	})
}

func (k TokenKeys) mustEncode(t testing.TB, st State) string {
	t.Helper()
	tok, err := k.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Rotation: a token signed before a rotation (its key now AWSPREVIOUS) is
// still accepted; after a second rotation it is refused.
func TestTokenKeyRotation(t *testing.T) {
	st := NewState(time.Now(), "h", 1)
	old := keysOf(t, keyA, "").mustEncode(t, st)
	if _, err := keysOf(t, keyB, keyA).Decode(old); err != nil {
		t.Errorf("after one rotation: Decode(token under the previous key) = %v; want it accepted", err)
	}
	if _, err := keysOf(t, keyC, keyB).Decode(old); err == nil || !strings.Contains(err.Error(), "signature does not match") {
		t.Errorf("after two rotations: Decode = %v; want the token refused", err)
	}
	if tok := keysOf(t, keyB, keyA).mustEncode(t, st); !strings.Contains(tok, base64.RawURLEncoding.EncodeToString(mac([]byte(keyB), tok[tokenOverhead:]))) {
		t.Errorf("token %q is not signed with the current key", tok)
	}
}

// The largest spec CheckTokenFits accepts still makes tokens within
// CodePipeline's 2,048 characters, MAC included, over its whole bake.
func TestTokensFitCodePipelinesLimit(t *testing.T) {
	for _, n := range []int{1, 10, 20, spec.MaxChecks} {
		checks := make([]spec.Check, n)
		for i := range checks {
			checks[i].Name = fmt.Sprintf("check-with-a-long-name-%02d", i)
		}
		sp := spec.Spec{Bake: spec.Duration(24 * time.Hour), Interval: spec.Duration(time.Minute), Checks: checks}
		if errs := CheckTokenFits(sp); len(errs) > 0 {
			t.Logf("%d checks: refused by CheckTokenFits (%v)", n, errs)
			continue
		}
		st := NewState(time.Now(), SpecHash([]byte("x")), n)
		st.Samples = int(24 * time.Hour / time.Minute)
		for i := range st.Checks {
			st.Checks[i].Tally = verdict.Tally{Succeeded: st.Samples / 4, Failed: st.Samples / 4, Inconclusive: st.Samples / 4, Errors: st.Samples - 3*(st.Samples/4), ConsecutiveErrors: st.Samples / 4}
			st.Checks[i].Last = strings.Repeat("é", maxEvidence)
		}
		tok, err := testKeys.Encode(st)
		if err != nil {
			t.Fatalf("%d checks: Encode = %v; CheckTokenFits accepted the spec", n, err)
		}
		if len(tok) > MaxToken {
			t.Errorf("%d checks: token is %d characters; CodePipeline allows %d", n, len(tok), MaxToken)
		}
		if _, err := testKeys.Decode(tok); err != nil {
			t.Errorf("%d checks: Decode(Encode(st)) = %v", n, err)
		}
	}
}

// fakeSecrets answers GetSecretValue from versions by stage.
type fakeSecrets struct {
	mu     sync.Mutex
	stages map[string]*secretsmanager.GetSecretValueOutput
	err    error // returned for every call when set
	calls  int
}

var _ SecretsManagerAPI = (*fakeSecrets)(nil)

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out, ok := f.stages[aws.ToString(in.VersionStage)]
	if !ok {
		// GetSecretValue's answer for a staging label no version carries.
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret value for staging label: " + aws.ToString(in.VersionStage))}
	}
	return out, nil
}

func str(s string) *secretsmanager.GetSecretValueOutput {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s)}
}

func TestLoadTokenKeys(t *testing.T) {
	accessDenied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform secretsmanager:GetSecretValue"}
	tests := []struct {
		name       string
		api        *fakeSecrets
		wantErr    string // "" for success
		wantConfig bool
		wantPrev   bool
	}{
		{"current and previous", &fakeSecrets{stages: map[string]*secretsmanager.GetSecretValueOutput{"AWSCURRENT": str(keyA), "AWSPREVIOUS": str(keyB)}}, "", false, true},
		{"never rotated", &fakeSecrets{stages: map[string]*secretsmanager.GetSecretValueOutput{"AWSCURRENT": str(keyA)}}, "", false, false},
		{"binary secret", &fakeSecrets{stages: map[string]*secretsmanager.GetSecretValueOutput{"AWSCURRENT": {SecretBinary: []byte(keyA)}}}, "", false, false},
		{"no such secret", &fakeSecrets{}, "has no AWSCURRENT version", true, false},
		{"access denied", &fakeSecrets{err: accessDenied}, "grant the verify function secretsmanager:GetSecretValue", true, false},
		{"key too short", &fakeSecrets{stages: map[string]*secretsmanager.GetSecretValueOutput{"AWSCURRENT": str("short")}}, "at least 32", true, false},
		{"throttled", &fakeSecrets{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}, "ThrottlingException", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadTokenKeys(context.Background(), tt.api, "postdeploy/token-key")
			if tt.wantErr == "" {
				if err != nil || k.IsZero() || (k.previous != nil) != tt.wantPrev {
					t.Errorf("LoadTokenKeys = %+v, %v; want keys (previous %t), nil", k, err, tt.wantPrev)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrConfig) != tt.wantConfig {
				t.Errorf("LoadTokenKeys error = %v (config %t); want one containing %q (config %t)", err, errors.Is(err, ErrConfig), tt.wantErr, tt.wantConfig)
			}
			if tt.wantConfig && tt.name == "no such secret" && !strings.Contains(err.Error(), config.EnvTokenKeySecret) {
				t.Errorf("error %q does not name %s", err, config.EnvTokenKeySecret)
			}
		})
	}
}

// The key is read once per execution environment; a failed read is
// retried on the next job instead of failing every job of the instance.
func TestTokenKeySourceReadsOnce(t *testing.T) {
	api := &fakeSecrets{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}
	src := &TokenKeySource{API: api, SecretID: "postdeploy/token-key"}
	if _, err := src.Keys(context.Background()); err == nil {
		t.Fatal("Keys with a throttled API = nil error")
	}
	api.mu.Lock()
	api.err, api.stages = nil, map[string]*secretsmanager.GetSecretValueOutput{"AWSCURRENT": str(keyA)}
	api.calls = 0
	api.mu.Unlock()
	for range 3 {
		if _, err := src.Keys(context.Background()); err != nil {
			t.Fatalf("Keys = %v", err)
		}
	}
	if api.calls != 2 {
		t.Errorf("GetSecretValue calls over 3 jobs = %d; want 2 (AWSCURRENT and AWSPREVIOUS, once)", api.calls)
	}
}

// A job whose token key cannot be read is failed, as a configuration
// problem when the stack must fix it.
func TestKeyFailureFailsTheJob(t *testing.T) {
	tests := []struct {
		name string
		api  *fakeSecrets
		want cptypes.FailureType
	}{
		{"access denied", &fakeSecrets{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}}, cptypes.FailureTypeConfigurationError},
		{"throttled", &fakeSecrets{err: &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}}, cptypes.FailureTypeSystemUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(&scripted{result: pass})
			e.v.Keys = &TokenKeySource{API: tt.api, SecretID: "postdeploy/token-key"}
			if err := e.invoke(t, jobEvent(t, "job-k", inlineSpec("0s", "1s", "a"), ""), time.Minute); err != nil {
				t.Fatal(err)
			}
			if len(e.cp.failures) != 1 || e.cp.failures[0].FailureDetails.Type != tt.want {
				t.Fatalf("reports = %+v; want one %s failure", e.cp.failures, tt.want)
			}
			if msg := aws.ToString(e.cp.failures[0].FailureDetails.Message); !strings.Contains(msg, "continuation-token key") {
				t.Errorf("failure %q does not say the token key could not be read", msg)
			}
		})
	}
}

// FuzzToken feeds arbitrary tokens to the decoder, and arbitrary payloads
// signed with the key (what a key holder could forge) to the decoder and
// the sanity checks: nothing panics, an unsigned input is never accepted,
// and whatever Validate accepts keeps the invariants a real bake keeps.
func FuzzToken(f *testing.F) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	sp := spec.Spec{Bake: spec.Duration(10 * time.Minute), Interval: spec.Duration(time.Minute), Checks: []spec.Check{{Name: "a"}, {Name: "b"}}}
	st := NewState(now.Add(-3*time.Minute), "h", 2)
	st.Samples = 3
	st.Checks[0].Tally = verdict.Tally{Succeeded: 2, Errors: 1, ConsecutiveErrors: 1}
	st.Checks[1].Tally = verdict.Tally{Succeeded: 3}
	good := testKeys.mustEncode(f, st)
	f.Add(good, false)
	f.Add(good[tokenOverhead:], true)
	f.Add(`{"v":2,"t":1,"n":-1,"h":"h","c":[{"f":-1000},{}]}`, true)
	f.Add(`{"v":2,"t":9999999999999,"n":9223372036854775807,"h":"h","c":[]}`, true)
	f.Add(`{"v":1,"t":1795000000000,"n":2,"h":"a40a79031ef41190","c":[{"s":2},{"s":1,"i":1}]}`, false)
	f.Fuzz(func(t *testing.T, in string, sign bool) {
		tok := in
		if sign {
			tok = resign(t, testKeys, in)
		}
		got, err := testKeys.Decode(tok)
		if err != nil {
			return
		}
		if !sign && tok != good {
			// Accepting an unsigned input means the fuzzer forged a MAC.
			if _, err := keysOf(t, keyC, "").Decode(tok); err == nil {
				t.Fatalf("Decode accepted %q under two unrelated keys", tok)
			}
		}
		if err := got.Validate(sp, now); err != nil {
			return
		}
		if got.Samples < 0 || got.Samples > 10 || len(got.Checks) != 2 || got.Start().After(now.Add(MaxClockSkew)) || now.Sub(got.Start()) > 31*time.Minute+MaxClockSkew {
			t.Fatalf("Validate accepted %+v", got)
		}
		for _, c := range got.Checks {
			for _, n := range []int{c.Succeeded, c.Failed, c.Inconclusive, c.Errors, c.ConsecutiveErrors} {
				if n < 0 || n > got.Samples {
					t.Fatalf("Validate accepted a count of %d over %d samples: %+v", n, got.Samples, got)
				}
			}
			if c.Samples() != got.Samples {
				t.Fatalf("Validate accepted tallies that do not add up: %+v", got)
			}
		}
	})
}
