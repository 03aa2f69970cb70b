// Package config reads each function's settings from its environment,
// once, at cold start. The variable names are exported constants so the
// CDK stack in infra/ sets exactly the names the functions read.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/notify"
)

// Environment variables shared by every function. Log level and format
// are Lambda's own AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT, set by
// the function's logging config.
const (
	// EnvMetricNamespace is the CloudWatch namespace of the suite's EMF
	// metrics (default "Postdeploy").
	EnvMetricNamespace = "POSTDEPLOY_METRIC_NAMESPACE"
	// EnvCloudWatchProtocol chooses the wire protocol of the CloudWatch
	// client: "" (the SDK's default, Smithy RPC v2 CBOR), "query" or
	// "json", for emulators that speak only the older protocols.
	EnvCloudWatchProtocol = "POSTDEPLOY_CLOUDWATCH_PROTOCOL"
)

// Environment variables of functions/verify.
const (
	// EnvEventBus is the EventBridge bus that receives "Post-Deploy
	// Verification Completed" events (default "default"; "off" sends none).
	EnvEventBus = "POSTDEPLOY_EVENT_BUS"
	// EnvSafetyMargin is how long before the Lambda deadline verify stops
	// sampling to report (default 20s).
	EnvSafetyMargin = "POSTDEPLOY_SAFETY_MARGIN"
	// EnvTokenKeySecret is the ARN (or name) of the Secrets Manager secret
	// whose value authenticates continuation tokens (HMAC-SHA256). verify
	// reads its AWSCURRENT and AWSPREVIOUS versions once per cold start,
	// signs with the current one and accepts either, so a rotation never
	// breaks a bake in flight. The stack creates the secret. Required:
	// verify never runs with unauthenticated tokens (the local harness
	// seeds a secret in the stand-in and sets it too).
	EnvTokenKeySecret = "POSTDEPLOY_TOKEN_KEY_SECRET"
	// EnvLocalProbes, set to "loopback" by the local harness only (make
	// demo, tests), lets probes reach services on 127.0.0.1/::1. Never set
	// by the stack; a spec cannot set it.
	EnvLocalProbes = "POSTDEPLOY_LOCAL_PROBES"
)

// Defaults.
const (
	DefaultMetricNamespace = "Postdeploy"
	DefaultEventBus        = "default"
	DefaultSafetyMargin    = 20 * time.Second
)

// Common are the settings every function reads.
type Common struct {
	MetricNamespace    string
	CloudWatchProtocol string
}

// Verify is functions/verify's configuration.
type Verify struct {
	Common
	// EventBus is "" when events are off.
	EventBus     string
	SafetyMargin time.Duration
	// TokenKeySecret names the Secrets Manager secret holding the
	// continuation-token key (EnvTokenKeySecret).
	TokenKeySecret string
}

// Getenv is os.Getenv's signature, so tests pass a map lookup.
type Getenv func(string) string

// loader accumulates every problem so one run reports all of them.
type loader struct {
	getenv Getenv
	errs   []error
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be a duration such as \"20s\"", name, v))
		return def
	}
	return d
}

func (l *loader) bool(name string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(l.getenv(name))) {
	case "":
		return def
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	default:
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be true or false", name, l.getenv(name)))
		return def
	}
}

func (l *loader) oneOf(name, def string, valid ...string) string {
	v := l.str(name, def)
	for _, ok := range valid {
		if v == ok {
			return v
		}
	}
	l.errs = append(l.errs, fmt.Errorf("%s=%q: must be one of %s", name, v, strings.Join(quoteAll(valid), ", ")))
	return def
}

func (l *loader) common() Common {
	c := Common{MetricNamespace: l.str(EnvMetricNamespace, DefaultMetricNamespace)}
	c.CloudWatchProtocol = l.oneOf(EnvCloudWatchProtocol, "", "", "query", "json")
	return c
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// LoadVerify reads functions/verify's settings; the error joins every
// problem found.
func LoadVerify(getenv Getenv) (Verify, error) {
	l := &loader{getenv: getenv}
	c := Verify{Common: l.common()}
	c.EventBus = l.str(EnvEventBus, DefaultEventBus)
	if c.EventBus == "off" {
		c.EventBus = ""
	}
	c.SafetyMargin = l.duration(EnvSafetyMargin, DefaultSafetyMargin)
	c.TokenKeySecret = l.str(EnvTokenKeySecret, "")
	if c.TokenKeySecret == "" {
		l.errs = append(l.errs, fmt.Errorf("%s is not set: it must name the Secrets Manager secret (ARN or name) whose value signs verify's continuation tokens; the postdeploy stack creates the secret and sets this variable", EnvTokenKeySecret))
	}
	return c, errors.Join(l.errs...)
}

// notifyFormat reads EnvNotifyFormat: "text" (default) or "chatbot".
func (l *loader) notifyFormat() notify.Format {
	return notify.Format(l.oneOf(EnvNotifyFormat, string(notify.FormatText), string(notify.FormatText), string(notify.FormatChatbot)))
}

// runbookBaseURL reads EnvRunbookBaseURL, an optional http(s) URL.
func (l *loader) runbookBaseURL() string {
	v := l.str(EnvRunbookBaseURL, "")
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be an http(s) URL such as https://wiki.example.com/runbooks", EnvRunbookBaseURL, v))
		return ""
	}
	return v
}

// policySource reads EnvRemediationPolicy: file:<path> or ssm:<name>;
// hint is added to the error (e.g. how to switch remediation off).
func (l *loader) policySource(hint string) string {
	v := l.str(EnvRemediationPolicy, DefaultRemediationPolicy)
	kind, ref, ok := strings.Cut(v, ":")
	if !ok || (kind != "file" && kind != "ssm") || strings.TrimSpace(ref) == "" {
		l.errs = append(l.errs, fmt.Errorf("%s=%q: must be file:<path> or ssm:<parameter name>, e.g. %q or \"ssm:/postdeploy/remediation-policy\"%s", EnvRemediationPolicy, v, DefaultRemediationPolicy, hint))
	}
	return v
}
