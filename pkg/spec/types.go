package spec

// Spec is a verification spec: what to check after a deployment, for how
// long, and how strict to be.
type Spec struct {
	// Bake is how long to keep sampling. 0 takes one sample and reports.
	Bake Duration `json:"bake,omitempty"`
	// Interval is the time between samples (default 30s).
	Interval Duration `json:"interval,omitempty"`
	// Checks are run every sample; at least one is required.
	Checks []Check `json:"checks"`
	// Limits say how many bad samples are tolerated.
	Limits Limits `json:"limits,omitempty"`
	// Where names the account (a role to assume) and region every AWS
	// check looks at, unless the check names its own (see Where).
	Where
}

// Limits say how many bad samples a check may see and what an unsure
// ending means.
type Limits struct {
	// FailureLimit is how many Failed samples a check may have and still
	// pass (default 0: the first failure fails it).
	FailureLimit int `json:"failureLimit,omitempty"`
	// ConsecutiveErrorLimit is how many Error samples in a row a check may
	// have before it ends in Error (default 3).
	ConsecutiveErrorLimit *int `json:"consecutiveErrorLimit,omitempty"`
	// Inconclusive is what an Inconclusive or Error verdict at the end of
	// the bake does to the pipeline: "fail" (default) or "pass".
	Inconclusive string `json:"inconclusive,omitempty"`
	// FailFast ends the bake as soon as a critical check's verdict is
	// decided Failed or Error (default true).
	FailFast *bool `json:"failFast,omitempty"`
}

// The values of Limits.Inconclusive and Check.NoData.
const (
	PolicyFail         = "fail"
	PolicyPass         = "pass"
	PolicyInconclusive = "inconclusive"
)

// Check is one named check. Exactly one of the kind fields (http, alarms,
// metric, compare, headers, imageScan) is set; Kind reports which.
type Check struct {
	// Name identifies the check in messages and output variables.
	Name string `json:"name"`
	// Expect is an expr-lang expression that must be true for a sample to
	// pass (http, metric). Each kind documents its variables.
	Expect string `json:"expect,omitempty"`
	// NoData is what a sample with no or too few data points is: "fail",
	// "pass" or "inconclusive" (default) — metric and compare checks.
	NoData string `json:"noData,omitempty"`
	// MinSamples is the fewest data points a sample needs to be judged
	// (metric, compare).
	MinSamples int `json:"minSamples,omitempty"`
	// Critical checks decide the verification; a non-critical check's
	// failure is reported as a warning only (default true).
	Critical *bool `json:"critical,omitempty"`
	// Where overrides the spec's account and region for this check (AWS
	// checks only: alarms, metric, compare, imageScan).
	Where

	HTTP      *HTTP      `json:"http,omitempty"`
	Alarms    *Alarms    `json:"alarms,omitempty"`
	Metric    *Metric    `json:"metric,omitempty"`
	Compare   *Compare   `json:"compare,omitempty"`
	Headers   *Headers   `json:"headers,omitempty"`
	ImageScan *ImageScan `json:"imageScan,omitempty"`
}

// The check kinds, as named in the spec.
const (
	KindHTTP      = "http"
	KindAlarms    = "alarms"
	KindMetric    = "metric"
	KindCompare   = "compare"
	KindHeaders   = "headers"
	KindImageScan = "imageScan"
)

// Kinds lists every check kind the spec knows, in documentation order.
var Kinds = []string{KindHTTP, KindAlarms, KindMetric, KindCompare, KindHeaders, KindImageScan}

// Kind returns the kind of the check ("" when none or several are set;
// validation reports both).
func (c Check) Kind() string {
	kinds := c.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

func (c Check) kinds() []string {
	var ks []string
	if c.HTTP != nil {
		ks = append(ks, KindHTTP)
	}
	if c.Alarms != nil {
		ks = append(ks, KindAlarms)
	}
	if c.Metric != nil {
		ks = append(ks, KindMetric)
	}
	if c.Compare != nil {
		ks = append(ks, KindCompare)
	}
	if c.Headers != nil {
		ks = append(ks, KindHeaders)
	}
	if c.ImageScan != nil {
		ks = append(ks, KindImageScan)
	}
	return ks
}

// IsCritical reports whether the check's failure fails the verification.
func (c Check) IsCritical() bool { return c.Critical == nil || *c.Critical }

// HTTP probes a URL. Expect sees: status (int), headers (map of
// canonical name to first value), body (string, capped), json (the body
// decoded, or nil), latency (duration).
type HTTP struct {
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"` // default GET
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Timeout bounds one attempt (default 5s).
	Timeout Duration `json:"timeout,omitempty"`
	// Retries is how many more attempts follow a connection error or 5xx
	// within one sample (default 0).
	Retries int `json:"retries,omitempty"`
	// Status lists the accepted status codes (default: any 2xx).
	Status []int `json:"status,omitempty"`
	// MaxLatency fails a response slower than this.
	MaxLatency Duration `json:"maxLatency,omitempty"`
	// MaxRedirects bounds redirects followed (default 5; 0 keeps the default,
	// -1 follows none).
	MaxRedirects int `json:"maxRedirects,omitempty"`
	// AllowLinkLocal permits 169.254.0.0/16 and fd00:ec2::254 (the instance
	// metadata service), refused by default.
	AllowLinkLocal bool `json:"allowLinkLocal,omitempty"`
}

// Alarms fails when a selected CloudWatch alarm (metric or composite) is
// in ALARM.
type Alarms struct {
	Names  []string `json:"names,omitempty"`
	Prefix string   `json:"prefix,omitempty"`
	// IgnorePreexisting treats alarms already in ALARM when the bake
	// started as the baseline: only alarms that enter ALARM during the
	// bake fail the deployment.
	IgnorePreexisting bool `json:"ignorePreexisting,omitempty"`
}

// MetricStat is one CloudWatch metric and the statistic to take of it.
type MetricStat struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Stat is a CloudWatch statistic: Average, Sum, Minimum, Maximum,
	// SampleCount, or an extended one such as p95 (default Average).
	Stat string `json:"stat,omitempty"`
	Unit string `json:"unit,omitempty"`
	// AccountID reads the metric from a source account linked to this
	// (monitoring) account by CloudWatch cross-account observability: it
	// is GetMetricData's MetricDataQuery.AccountId, 12 digits.
	AccountID string `json:"accountId,omitempty"`
}

// Metric reads CloudWatch with GetMetricData: either one metric (the
// inline MetricStat fields) or a math Expression over named Metrics.
// Expect sees: value (newest data point), values (oldest first), min,
// max, avg, sum, count.
type Metric struct {
	MetricStat
	Expression string                `json:"expression,omitempty"`
	Metrics    map[string]MetricStat `json:"metrics,omitempty"`
	// Period of each data point (default 60s; a multiple of 60s).
	Period Duration `json:"period,omitempty"`
	// Window is how far back each sample reads (default 5m).
	Window Duration `json:"window,omitempty"`
}

// Series is one side of a comparison.
type Series struct {
	MetricStat
	// BeforeBake reads this series from the window that ends when the bake
	// started (the same metric before vs after the deployment).
	BeforeBake bool `json:"beforeBake,omitempty"`
	// Offset shifts this series' window back in time (e.g. 24h: the same
	// hour yesterday).
	Offset Duration `json:"offset,omitempty"`
}

// Compare tests a canary series against a baseline series statistically.
type Compare struct {
	Baseline Series `json:"baseline"`
	Canary   Series `json:"canary"`
	// Test is the statistical test: "mann-whitney" (default).
	Test string `json:"test,omitempty"`
	// Direction is the change that is bad: increase (default), decrease,
	// either.
	Direction string `json:"direction,omitempty"`
	// Tolerance is the relative change tolerated, e.g. "20%".
	Tolerance Percent `json:"tolerance,omitempty"`
	// Confidence is the confidence level, e.g. 0.95 (default).
	Confidence float64 `json:"confidence,omitempty"`
	// Period of each data point (default 60s).
	Period Duration `json:"period,omitempty"`
	// Window is how far back each series reads (default: the bake so far).
	Window Duration `json:"window,omitempty"`
}

// Headers checks a URL's response against a passive security baseline.
type Headers struct {
	URL string `json:"url"`
	// Require names rules that must pass (default: all). Skip names rules
	// not to run.
	Require        []string `json:"require,omitempty"`
	Skip           []string `json:"skip,omitempty"`
	Timeout        Duration `json:"timeout,omitempty"`
	AllowLinkLocal bool     `json:"allowLinkLocal,omitempty"`
}

// ImageScan gates on the scan findings of the deployed image.
type ImageScan struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	RegistryID string `json:"registryId,omitempty"`
	// MaxSeverity is the highest severity allowed: INFORMATIONAL, LOW,
	// MEDIUM, HIGH, CRITICAL (default HIGH: a CRITICAL finding fails).
	MaxSeverity string `json:"maxSeverity,omitempty"`
	// MaxScore fails a finding whose risk score is above this (0–100).
	MaxScore float64 `json:"maxScore,omitempty"`
	// Sources: ecr, inspector (default both).
	Sources []string `json:"sources,omitempty"`
}

// Where names the account and region an AWS check looks at. Empty fields
// mean the function's own account and region.
type Where struct {
	// RoleARN is an IAM role to assume (sts:AssumeRole) in the account to
	// look at, e.g. arn:aws:iam::222222222222:role/postdeploy-verify.
	RoleARN string `json:"roleArn,omitempty"`
	// ExternalID is passed to AssumeRole when the role's trust policy asks
	// for one (sts:ExternalId); only with roleArn.
	ExternalID string `json:"externalId,omitempty"`
	// Region is the AWS Region to look at, e.g. eu-west-1.
	Region string `json:"region,omitempty"`
}

// IsZero reports whether w names nothing: the function's own account and
// region.
func (w Where) IsZero() bool { return w == Where{} }

// Over returns w with every field it leaves empty taken from outer: a
// check's Where over the spec's. A check that names its own role does not
// inherit the spec's external id.
func (w Where) Over(outer Where) Where {
	if w.RoleARN == "" {
		w.RoleARN, w.ExternalID = outer.RoleARN, outer.ExternalID
	}
	if w.Region == "" {
		w.Region = outer.Region
	}
	return w
}

// Of returns where check i looks: its own Where over the spec's.
func (s Spec) Of(i int) Where { return s.Checks[i].Where.Over(s.Where) }
