package triage

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Weights say how much each factor counts in the risk score. They need
// not sum to 1: the score divides by their sum.
type Weights struct {
	// Severity: the source's severity class and CVSS / Inspector score.
	Severity float64 `json:"severity"`
	// Likelihood: known exploitation, public exploits, EPSS, observed
	// malicious activity.
	Likelihood float64 `json:"likelihood"`
	// Impact: the criticality of the affected asset (its tag).
	Impact float64 `json:"impact"`
	// Compliance: the finding fails a compliance control.
	Compliance float64 `json:"compliance"`
}

// DefaultWeights weigh severity most, then likelihood, impact and
// compliance.
var DefaultWeights = Weights{Severity: 0.4, Likelihood: 0.3, Impact: 0.2, Compliance: 0.1}

// ParseWeights reads "severity=0.4,likelihood=0.3,impact=0.2,compliance=0.1".
// Factors left out keep their default weight.
func ParseWeights(s string) (Weights, error) {
	w := DefaultWeights
	if strings.TrimSpace(s) == "" {
		return w, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Weights{}, fmt.Errorf("weight %q: want factor=number, e.g. severity=0.4", part)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return Weights{}, fmt.Errorf("weight %q: %q must be a number ≥ 0", part, v)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "severity":
			w.Severity = x
		case "likelihood":
			w.Likelihood = x
		case "impact":
			w.Impact = x
		case "compliance":
			w.Compliance = x
		default:
			return Weights{}, fmt.Errorf("weight %q: unknown factor %q (want severity, likelihood, impact or compliance)", part, k)
		}
	}
	if w.sum() == 0 {
		return Weights{}, errors.New("weights: at least one must be above 0")
	}
	return w, nil
}

func (w Weights) sum() float64 { return w.Severity + w.Likelihood + w.Impact + w.Compliance }

// Priority is P1 (act now) to P4 (routine).
type Priority int

// The priorities.
const (
	P1 Priority = iota + 1
	P2
	P3
	P4
)

// String returns "P1" … "P4".
func (p Priority) String() string {
	if p < P1 || p > P4 {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return "P" + strconv.Itoa(int(p))
}

// MarshalText encodes the priority by name.
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// ParseSLAs reads "P1=24h,P2=168h,P3=720h,P4=2160h"; priorities left out
// keep their default SLA.
func ParseSLAs(s string) (map[Priority]time.Duration, error) {
	out := make(map[Priority]time.Duration, len(DefaultSLAs))
	for p, d := range DefaultSLAs {
		out[p] = d
	}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("SLA %q: want priority=duration, e.g. P1=24h", part)
		}
		p, err := ParsePriority(k)
		if err != nil {
			return nil, fmt.Errorf("SLA %q: %w", part, err)
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("SLA %q: %q must be a positive duration such as 24h", part, v)
		}
		out[p] = d
	}
	return out, nil
}

// ParsePriority reads "P1" … "P4".
func ParsePriority(s string) (Priority, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "P1":
		return P1, nil
	case "P2":
		return P2, nil
	case "P3":
		return P3, nil
	case "P4":
		return P4, nil
	}
	return 0, fmt.Errorf("unknown priority %q (want P1, P2, P3 or P4)", s)
}

// Criticality is how much the business depends on an asset, read from a
// resource tag (values critical, high, medium, low).
type Criticality int

// The criticality levels.
const (
	CriticalityLow Criticality = iota + 1
	CriticalityMedium
	CriticalityHigh
	CriticalityCritical
)

// ParseCriticality reads a tag value: critical, high, medium, low
// (case-insensitive; tier-1…tier-4 too).
func ParseCriticality(s string) (Criticality, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "tier-1", "tier1", "p1":
		return CriticalityCritical, nil
	case "high", "tier-2", "tier2", "p2":
		return CriticalityHigh, nil
	case "medium", "tier-3", "tier3", "p3":
		return CriticalityMedium, nil
	case "low", "tier-4", "tier4", "p4":
		return CriticalityLow, nil
	}
	return 0, fmt.Errorf("unknown criticality %q (want critical, high, medium or low)", s)
}

func (c Criticality) String() string {
	switch c {
	case CriticalityCritical:
		return "critical"
	case CriticalityHigh:
		return "high"
	case CriticalityMedium:
		return "medium"
	case CriticalityLow:
		return "low"
	}
	return "unknown"
}

// Scorer scores findings. The zero value is usable: default weights, the
// "criticality" tag, medium criticality for untagged assets, and the
// default thresholds and SLAs.
type Scorer struct {
	Weights Weights
	// CriticalityTag is the resource tag holding the asset's criticality
	// (default "criticality").
	CriticalityTag string
	// DefaultCriticality applies to assets without the tag (default medium).
	DefaultCriticality Criticality
	// Assets maps a resource (repository name, instance id or resource id)
	// to its criticality, for sources whose events carry no tags (ECR).
	Assets map[string]Criticality
	// Thresholds are the lowest scores of P1, P2 and P3 (default 80, 55,
	// 35); anything lower is P4. With the default weights, on an asset of
	// medium criticality with no known exploit, CRITICAL is P2, HIGH and
	// MEDIUM are P3 and LOW is P4; exploitation, asset criticality and
	// failed controls raise them.
	Thresholds [3]float64
	// SLAs are the time to remediate per priority (default P1 1 day, P2 7
	// days, P3 30 days, P4 90 days).
	SLAs map[Priority]time.Duration
}

// DefaultSLAs are the remediation deadlines per priority.
var DefaultSLAs = map[Priority]time.Duration{
	P1: 24 * time.Hour,
	P2: 7 * 24 * time.Hour,
	P3: 30 * 24 * time.Hour,
	P4: 90 * 24 * time.Hour,
}

// DefaultThresholds are the lowest scores of P1, P2 and P3.
var DefaultThresholds = [3]float64{80, 55, 35}

// Factors are the four factor values (each 0–1) that made a score.
type Factors struct {
	Severity    float64     `json:"severity"`
	Likelihood  float64     `json:"likelihood"`
	Impact      float64     `json:"impact"`
	Compliance  float64     `json:"compliance"`
	Criticality Criticality `json:"-"`
}

// Assessment is a scored finding.
type Assessment struct {
	// Score is the weighted risk, 0–100.
	Score    float64  `json:"score"`
	Priority Priority `json:"priority"`
	// SLA is the time allowed to remediate; Due is FirstSeen (or now) + SLA.
	SLA     time.Duration `json:"-"`
	Due     time.Time     `json:"due"`
	Factors Factors       `json:"factors"`
}

// Score returns f's weighted risk score, priority and SLA. now dates the
// SLA when the finding has no first-seen time.
func (s Scorer) Score(f Finding, now time.Time) Assessment {
	w := s.Weights
	if w.sum() <= 0 {
		w = DefaultWeights
	}
	crit := s.criticality(f.Resource)
	fx := Factors{
		Severity:    severityFactor(f),
		Likelihood:  likelihoodFactor(f),
		Impact:      impactFactor(crit),
		Criticality: crit,
	}
	if len(f.Compliance) > 0 {
		fx.Compliance = 1
	}
	score := 100 * (w.Severity*fx.Severity + w.Likelihood*fx.Likelihood + w.Impact*fx.Impact + w.Compliance*fx.Compliance) / w.sum()
	score = math.Round(score*10) / 10
	a := Assessment{Score: score, Factors: fx, Priority: s.priority(score)}
	slas := s.SLAs
	if slas == nil {
		slas = DefaultSLAs
	}
	a.SLA = slas[a.Priority]
	start := f.FirstSeen
	if start.IsZero() {
		start = now
	}
	a.Due = start.Add(a.SLA).UTC()
	return a
}

func (s Scorer) priority(score float64) Priority {
	t := s.Thresholds
	if t == ([3]float64{}) {
		t = DefaultThresholds
	}
	switch {
	case score >= t[0]:
		return P1
	case score >= t[1]:
		return P2
	case score >= t[2]:
		return P3
	}
	return P4
}

func (s Scorer) criticality(r Resource) Criticality {
	tag := s.CriticalityTag
	if tag == "" {
		tag = "criticality"
	}
	for k, v := range r.Tags {
		if strings.EqualFold(k, tag) {
			if c, err := ParseCriticality(v); err == nil {
				return c
			}
		}
	}
	for _, key := range []string{r.Repository, r.InstanceID, r.ID} {
		if c, ok := s.Assets[key]; ok && key != "" {
			return c
		}
	}
	if s.DefaultCriticality != 0 {
		return s.DefaultCriticality
	}
	return CriticalityMedium
}

var severityValue = map[Severity]float64{
	SeverityUnknown: 0.25,
	Informational:   0,
	Low:             0.25,
	Medium:          0.5,
	Untriaged:       0.5,
	High:            0.75,
	Critical:        1,
}

// severityFactor is the larger of the class's value and the numeric score
// (Inspector's environment-adjusted score, else CVSS) over 10.
func severityFactor(f Finding) float64 {
	v := severityValue[f.Severity]
	n := f.InspectorScore
	if n <= 0 {
		n = f.CVSS
	}
	return clamp01(max(v, n/10))
}

// likelihoodFactor: observed attack activity or known exploitation 1,
// public exploit 0.8, otherwise the EPSS probability with a floor of 0.2
// (every vulnerability may be exploited).
func likelihoodFactor(f Finding) float64 {
	switch {
	case f.ActiveThreat || f.KnownExploited:
		return 1
	case f.ExploitAvailable:
		return max(0.8, clamp01(f.EPSS))
	}
	return max(0.2, clamp01(f.EPSS))
}

func impactFactor(c Criticality) float64 {
	switch c {
	case CriticalityCritical:
		return 1
	case CriticalityHigh:
		return 0.75
	case CriticalityLow:
		return 0.25
	}
	return 0.5
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(x, 1)
}
