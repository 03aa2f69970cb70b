package spec

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/postdeploy/postdeploy/pkg/strict"
)

// Defaults and bounds.
const (
	DefaultInterval              = 30 * time.Second
	DefaultConsecutiveErrorLimit = 3
	// MaxBake is CodePipeline's limit on a Lambda invoke action (24 hours).
	MaxBake     = 24 * time.Hour
	MinInterval = time.Second
	// MaxChecks keeps one sample cheap and the continuation token small;
	// pipeline checks the token's exact fit as well.
	MaxChecks = 50
)

var (
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	severities    = []string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
)

// WithDefaults returns s with every unset default filled in.
func (s Spec) WithDefaults() Spec {
	if s.Interval == 0 {
		s.Interval = Duration(DefaultInterval)
	}
	if s.Limits.ConsecutiveErrorLimit == nil {
		n := DefaultConsecutiveErrorLimit
		s.Limits.ConsecutiveErrorLimit = &n
	}
	if s.Limits.Inconclusive == "" {
		s.Limits.Inconclusive = PolicyFail
	}
	if s.Limits.FailFast == nil {
		t := true
		s.Limits.FailFast = &t
	}
	return s
}

// Validate reports every structural problem in s, each with its path.
// What only a check kind knows (expressions, rule names) is checked when
// the kind builds its sampler.
func (s Spec) Validate() Errors {
	var errs Errors
	if s.Bake.D() > MaxBake {
		errs.Add("bake", "must be at most 24h (CodePipeline fails a Lambda invoke action after 24 hours), got %s", s.Bake)
	}
	if s.Interval.D() < MinInterval {
		errs.Add("interval", "must be at least 1s, got %s", s.Interval)
	}
	if s.Bake > 0 && s.Interval > s.Bake {
		errs.Add("interval", "must not be longer than bake (%s), got %s", s.Bake, s.Interval)
	}
	l := s.Limits
	if l.FailureLimit < 0 {
		errs.Add("limits.failureLimit", "must be 0 or more, got %d", l.FailureLimit)
	}
	if l.ConsecutiveErrorLimit != nil && *l.ConsecutiveErrorLimit < 0 {
		errs.Add("limits.consecutiveErrorLimit", "must be 0 or more, got %d", *l.ConsecutiveErrorLimit)
	}
	if !oneOf(l.Inconclusive, "", PolicyFail, PolicyPass) {
		errs.Add("limits.inconclusive", "must be %q or %q, got %q", PolicyFail, PolicyPass, l.Inconclusive)
	}
	switch n := len(s.Checks); {
	case n == 0:
		errs.Add("checks", "at least one check is required")
	case n > MaxChecks:
		errs.Add("checks", "%d checks; at most %d fit in one verification: split them across actions", n, MaxChecks)
	}
	errs = append(errs, s.Where.validate("")...)
	seen := map[string]int{}
	for i, c := range s.Checks {
		p := Index("checks", i)
		switch {
		case c.Name == "":
			errs.Add(Field(p, "name"), "is required (letters, digits, '.', '_' or '-'; it names the check in messages and output variables)")
		case !namePattern.MatchString(c.Name):
			errs.Add(Field(p, "name"), "%q: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)", c.Name)
		default:
			if j, dup := seen[c.Name]; dup {
				errs.Add(Field(p, "name"), "%q is already the name of checks[%d]: names must be unique", c.Name, j)
			}
			seen[c.Name] = i
		}
		errs = append(errs, c.validate(p)...)
		errs = append(errs, c.validateWhere(p)...)
	}
	return errs
}

func (c Check) validate(p string) Errors {
	var errs Errors
	switch ks := c.kinds(); len(ks) {
	case 0:
		errs.Add(p, msgNoKind+": set exactly one of %s", strings.Join(Kinds, ", "))
	case 1:
	default:
		errs.Add(p, "several check kinds (%s): set exactly one per check", strings.Join(ks, ", "))
	}
	if !oneOf(c.NoData, "", PolicyFail, PolicyPass, PolicyInconclusive) {
		errs.Add(Field(p, "noData"), "must be fail, pass or inconclusive, got %q", c.NoData)
	}
	if c.MinSamples < 0 {
		errs.Add(Field(p, "minSamples"), "must be 0 or more, got %d", c.MinSamples)
	}
	if c.HTTP != nil {
		hp := Field(p, KindHTTP)
		validateURL(&errs, Field(hp, "url"), c.HTTP.URL)
		if c.HTTP.Retries < 0 || c.HTTP.Retries > 10 {
			errs.Add(Field(hp, "retries"), "must be between 0 and 10, got %d", c.HTTP.Retries)
		}
		if c.HTTP.Timeout.D() > 5*time.Minute {
			errs.Add(Field(hp, "timeout"), "must be at most 5m, got %s", c.HTTP.Timeout)
		}
		for j, st := range c.HTTP.Status {
			if st < 100 || st > 599 {
				errs.Add(Index(Field(hp, "status"), j), "must be an HTTP status code (100–599), got %d", st)
			}
		}
		if c.HTTP.MaxRedirects < -1 || c.HTTP.MaxRedirects > 20 {
			errs.Add(Field(hp, "maxRedirects"), "must be between -1 (follow none) and 20, got %d", c.HTTP.MaxRedirects)
		}
	}
	if c.Headers != nil {
		validateURL(&errs, Field(Field(p, KindHeaders), "url"), c.Headers.URL)
	}
	if c.Alarms != nil {
		ap := Field(p, KindAlarms)
		if len(c.Alarms.Names) == 0 && c.Alarms.Prefix == "" {
			errs.Add(ap, "set names, prefix, or both, to choose the alarms to watch")
		}
		for j, n := range c.Alarms.Names {
			if strings.TrimSpace(n) == "" {
				errs.Add(Index(Field(ap, "names"), j), "must not be empty")
			}
		}
	}
	if c.Metric != nil {
		mp := Field(p, KindMetric)
		m := c.Metric
		single := m.Namespace != "" || m.Name != ""
		switch {
		case single && m.Expression != "":
			errs.Add(mp, "set either one metric (namespace, name) or expression with metrics, not both")
		case single:
			validateMetricStat(&errs, mp, m.MetricStat)
			if len(m.Metrics) > 0 {
				errs.Add(Field(mp, "metrics"), "only used with expression")
			}
		case m.Expression != "":
			if len(m.Metrics) == 0 {
				errs.Add(Field(mp, "metrics"), "expression %q needs the metrics it refers to, by id", m.Expression)
			}
			for _, id := range strict.SortedKeys(m.Metrics) {
				validateMetricStat(&errs, Field(Field(mp, "metrics"), id), m.Metrics[id])
			}
		default:
			errs.Add(mp, "set one metric (namespace, name, stat) or an expression over metrics")
		}
		validatePeriod(&errs, Field(mp, "period"), m.Period)
		if m.Window > 0 && m.Period > 0 && m.Window < m.Period {
			errs.Add(Field(mp, "window"), "must be at least one period (%s), got %s", m.Period, m.Window)
		}
	}
	if c.Compare != nil {
		cp := Field(p, KindCompare)
		validateMetricStat(&errs, Field(cp, "baseline"), c.Compare.Baseline.MetricStat)
		validateMetricStat(&errs, Field(cp, "canary"), c.Compare.Canary.MetricStat)
		validatePeriod(&errs, Field(cp, "period"), c.Compare.Period)
	}
	if c.ImageScan != nil {
		ip := Field(p, KindImageScan)
		is := c.ImageScan
		if is.Repository == "" {
			errs.Add(Field(ip, "repository"), "is required (the ECR repository name)")
		}
		switch {
		case is.Digest == "" && is.Tag == "":
			errs.Add(ip, "set digest (preferred: the image that was deployed) or tag")
		case is.Digest != "" && is.Tag != "":
			errs.Add(ip, "set digest or tag, not both")
		case is.Digest != "" && !digestPattern.MatchString(is.Digest):
			errs.Add(Field(ip, "digest"), "must look like sha256:<64 hex digits>, got %q", is.Digest)
		}
		if is.MaxSeverity != "" && !oneOf(is.MaxSeverity, severities...) {
			errs.Add(Field(ip, "maxSeverity"), "must be one of %s, got %q", strings.Join(severities, ", "), is.MaxSeverity)
		}
		if is.MaxScore < 0 || is.MaxScore > 100 {
			errs.Add(Field(ip, "maxScore"), "must be between 0 and 100, got %g", is.MaxScore)
		}
		for j, src := range is.Sources {
			if !oneOf(src, "ecr", "inspector") {
				errs.Add(Index(Field(ip, "sources"), j), "must be ecr or inspector, got %q", src)
			}
		}
	}
	return errs
}

func validateURL(errs *Errors, path, raw string) {
	if raw == "" {
		errs.Add(path, "is required")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		errs.Add(path, "not a valid URL: %v", err)
		return
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		errs.Add(path, "must be https or http, got %q", raw)
		return
	}
	if u.Hostname() == "" {
		errs.Add(path, "has no host: %q", raw)
	}
	if u.User != nil {
		errs.Add(path, "must not carry credentials in the URL; send them in headers from an SSM-sourced spec")
	}
}

func validateMetricStat(errs *Errors, path string, m MetricStat) {
	if m.Namespace == "" {
		errs.Add(Field(path, "namespace"), "is required, e.g. AWS/ApplicationELB")
	}
	if m.Name == "" {
		errs.Add(Field(path, "name"), "is required (the metric name), e.g. HTTPCode_Target_5XX_Count")
	}
	if len(m.Dimensions) > 30 {
		errs.Add(Field(path, "dimensions"), "at most 30 dimensions, got %d", len(m.Dimensions))
	}
	validateAccountID(errs, path, m.AccountID)
}

func validatePeriod(errs *Errors, path string, d Duration) {
	if d == 0 {
		return
	}
	s := d.D()
	if s%time.Second != 0 {
		errs.Add(path, "must be whole seconds, got %s", d)
		return
	}
	if sec := int(s / time.Second); sec < 60 || sec%60 != 0 {
		errs.Add(path, "must be a multiple of 60s (1m, 5m, …), got %s", d)
	}
}

func oneOf(v string, valid ...string) bool {
	for _, ok := range valid {
		if v == ok {
			return true
		}
	}
	return false
}
