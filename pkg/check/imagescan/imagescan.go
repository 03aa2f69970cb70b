package imagescan

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
	"github.com/postdeploy/postdeploy/pkg/triage"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// ECRAPI is the part of *ecr.Client the check uses.
type ECRAPI interface {
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

// InspectorAPI is the part of *inspector2.Client the check uses.
type InspectorAPI interface {
	ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, optFns ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error)
}

var (
	_ ECRAPI       = (*ecr.Client)(nil)
	_ InspectorAPI = (*inspector2.Client)(nil)
)

// Options are what the kind is built from.
type Options struct {
	// ECR is required when any check reads the "ecr" source; Inspector
	// when any reads "inspector".
	ECR       ECRAPI
	Inspector InspectorAPI
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Scorer scores findings (the zero value: pkg/triage's defaults).
	Scorer triage.Scorer
}

// The sources a check can read.
const (
	SourceECR       = "ecr"
	SourceInspector = "inspector"
)

// Limits.
const (
	// maxPages bounds the pages read per source per sample, so an image
	// with thousands of findings cannot exhaust the Lambda's time.
	maxPages = 20
	// maxListed is how many failing findings a result names.
	maxListed = 5
)

var (
	digestRE   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	registryRE = regexp.MustCompile(`^[0-9]{12}$`)
	repoRE     = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
)

// target is one validated check.
type target struct {
	repo, digest, tag, registry string
	maxSeverity                 triage.Severity
	maxScore                    float64
	ecr, inspector              bool
}

type sampler struct {
	o       Options
	targets []target
}

// New validates every imageScan check and returns their sampler. Every
// problem is reported with its path.
func New(o Options, items []check.Item) (check.Sampler, spec.Errors) {
	var errs spec.Errors
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &sampler{o: o, targets: make([]target, len(items))}
	for i, it := range items {
		path := spec.Field(it.Path(), "imageScan")
		x := it.Check.ImageScan
		if x == nil {
			errs.Add(path, "required for an imageScan check")
			continue
		}
		errs = append(errs, check.Unused(it, "it fails on findings above maxSeverity or maxScore", "expect", "noData", "minSamples")...)
		t := target{repo: strings.TrimSpace(x.Repository), digest: strings.TrimSpace(x.Digest), tag: strings.TrimSpace(x.Tag), registry: strings.TrimSpace(x.RegistryID), maxScore: x.MaxScore}
		switch {
		case t.repo == "":
			errs.Add(spec.Field(path, "repository"), "required: the ECR repository name, e.g. \"app\" or \"team/app\"")
		case strings.Contains(t.repo, ".amazonaws.com") || !repoRE.MatchString(t.repo) || len(t.repo) > 256:
			errs.Add(spec.Field(path, "repository"), "%q is not an ECR repository name (lowercase letters, digits, . _ - and / separators; give the name, not the URI)", t.repo)
		}
		switch {
		case t.digest == "" && t.tag == "":
			errs.Add(path, "set digest (preferred: \"#{Build.IMAGE_DIGEST}\") or tag: which image was deployed")
		case t.digest != "" && !digestRE.MatchString(t.digest):
			errs.Add(spec.Field(path, "digest"), "%q is not an image digest (sha256: and 64 lowercase hex digits)", t.digest)
		}
		if t.registry != "" && !registryRE.MatchString(t.registry) {
			errs.Add(spec.Field(path, "registryId"), "%q is not an AWS account id (12 digits)", t.registry)
		}
		t.maxSeverity = triage.High
		if x.MaxSeverity != "" {
			sev, err := triage.ParseSeverity(x.MaxSeverity)
			if err != nil || sev == triage.SeverityUnknown || sev == triage.Untriaged {
				errs.Add(spec.Field(path, "maxSeverity"), "%q: want INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL (the highest severity allowed)", x.MaxSeverity)
			} else {
				t.maxSeverity = sev
			}
		}
		if x.MaxScore < 0 || x.MaxScore > 100 {
			errs.Add(spec.Field(path, "maxScore"), "%v: want a risk score from 0 to 100 (0 or unset: no score limit)", x.MaxScore)
		}
		srcs := x.Sources
		if len(srcs) == 0 {
			srcs = []string{SourceECR, SourceInspector}
		}
		for j, src := range srcs {
			switch strings.ToLower(strings.TrimSpace(src)) {
			case SourceECR:
				t.ecr = true
			case SourceInspector, "inspector2":
				t.inspector = true
			default:
				errs.Add(spec.Index(spec.Field(path, "sources"), j), "%q: want ecr or inspector", src)
			}
		}
		if t.inspector && !t.ecr && t.digest == "" {
			errs.Add(spec.Field(path, "digest"), "required when sources is only inspector (Inspector finds images by digest; ECR can resolve a tag)")
		}
		if t.ecr && o.ECR == nil {
			errs.Add(path, "internal error: the imageScan kind was built without an ECR client (imagescan.Options.ECR is nil)")
		}
		if t.inspector && o.Inspector == nil {
			errs.Add(path, "internal error: the imageScan kind was built without an Inspector2 client (imagescan.Options.Inspector is nil)")
		}
		s.targets[i] = t
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// Sample reads each image's findings and judges them.
func (s *sampler) Sample(ctx context.Context, _ check.Sample) []verdict.Result {
	out := make([]verdict.Result, len(s.targets))
	for i, t := range s.targets {
		start := s.o.Now()
		out[i] = s.judge(ctx, t)
		out[i].Duration = s.o.Now().Sub(start)
	}
	return out
}

// errInconclusive marks a source that has no answer yet (scan pending).
type inconclusive struct{ msg string }

func (e inconclusive) Error() string { return e.msg }

func (s *sampler) judge(ctx context.Context, t target) verdict.Result {
	res := verdict.Result{Target: t.name(), Expected: t.expected()}
	digest := t.digest
	var findings []triage.Finding
	var pending []string
	if t.ecr {
		fs, d, err := s.fromECR(ctx, t)
		var inc inconclusive
		switch {
		case errors.As(err, &inc):
			pending = append(pending, inc.msg)
		case err != nil:
			res.Verdict, res.Observed = verdict.Error, err.Error()
			return res
		}
		findings = append(findings, fs...)
		if digest == "" {
			digest = d
		}
	}
	if t.inspector {
		if digest == "" {
			pending = append(pending, fmt.Sprintf("Inspector: tag %q was not resolved to a digest by ECR", t.tag))
		} else {
			fs, err := s.fromInspector(ctx, t, digest)
			if err != nil {
				res.Verdict, res.Observed = verdict.Error, err.Error()
				return res
			}
			findings = append(findings, fs...)
		}
	}
	if digest != "" && t.digest == "" {
		res.Target = t.repo + "@" + digest
	}
	findings = dedupe(findings)
	now := s.o.Now()
	type bad struct {
		f triage.Finding
		a triage.Assessment
	}
	var fails []bad
	counts := map[triage.Severity]int{}
	maxScore := 0.0
	for _, f := range findings {
		a := s.o.Scorer.Score(f, now)
		counts[f.Severity]++
		maxScore = max(maxScore, a.Score)
		if f.Severity > t.maxSeverity || (t.maxScore > 0 && a.Score > t.maxScore) {
			fails = append(fails, bad{f, a})
		}
	}
	res.Values = map[string]float64{
		"findings": float64(len(findings)),
		"critical": float64(counts[triage.Critical]),
		"high":     float64(counts[triage.High]),
		"medium":   float64(counts[triage.Medium] + counts[triage.Untriaged]),
		"low":      float64(counts[triage.Low]),
		"maxScore": maxScore,
	}
	summary := (triage.Finding{Counts: counts}).CountsText()
	if summary == "" {
		summary = "no findings"
	}
	switch {
	case len(fails) > 0:
		slices.SortFunc(fails, func(x, y bad) int {
			if c := int(y.f.Severity) - int(x.f.Severity); c != 0 {
				return c
			}
			switch {
			case x.a.Score > y.a.Score:
				return -1
			case x.a.Score < y.a.Score:
				return 1
			}
			return strings.Compare(x.f.ID, y.f.ID)
		})
		var names []string
		for _, b := range fails[:min(len(fails), maxListed)] {
			names = append(names, fmt.Sprintf("%s (%s, risk %.0f %s%s)", findingName(b.f), b.f.Severity, b.a.Score, b.a.Priority, fixText(b.f)))
		}
		more := ""
		if len(fails) > maxListed {
			more = fmt.Sprintf(" and %d more", len(fails)-maxListed)
		}
		res.Verdict = verdict.Failed
		res.Observed = fmt.Sprintf("%d of %d findings over the limit (%s): %s%s", len(fails), len(findings), summary, strings.Join(names, "; "), more)
	case len(pending) > 0 && len(findings) == 0:
		res.Verdict = verdict.Inconclusive
		res.Observed = strings.Join(pending, "; ")
	default:
		res.Verdict = verdict.Succeeded
		res.Observed = fmt.Sprintf("%s (highest risk score %.0f)", summary, maxScore)
		if len(pending) > 0 {
			res.Observed += "; " + strings.Join(pending, "; ")
		}
	}
	return res
}

func (s *sampler) fromECR(ctx context.Context, t target) ([]triage.Finding, string, error) {
	in := &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(t.repo), ImageId: &ecrtypes.ImageIdentifier{}, MaxResults: aws.Int32(1000)}
	if t.digest != "" {
		in.ImageId.ImageDigest = aws.String(t.digest)
	} else {
		in.ImageId.ImageTag = aws.String(t.tag)
	}
	if t.registry != "" {
		in.RegistryId = aws.String(t.registry)
	}
	var out []triage.Finding
	digest := t.digest
	p := ecr.NewDescribeImageScanFindingsPaginator(s.o.ECR, in)
	for page := 0; p.HasMorePages() && page < maxPages; page++ {
		o, err := p.NextPage(ctx)
		if err != nil {
			var nf *ecrtypes.ScanNotFoundException
			var inf *ecrtypes.ImageNotFoundException
			var rnf *ecrtypes.RepositoryNotFoundException
			switch {
			case errors.As(err, &nf):
				return nil, "", inconclusive{fmt.Sprintf("ECR: no scan of %s yet (turn on scan on push, or start a scan)", t.name())}
			case errors.As(err, &inf):
				return nil, "", fmt.Errorf("ECR: image %s not found: is the digest or tag the deployed image?", t.name())
			case errors.As(err, &rnf):
				return nil, "", fmt.Errorf("ECR: repository %q not found in registry %s", t.repo, orDefault(t.registry))
			}
			return nil, "", fmt.Errorf("ECR DescribeImageScanFindings %s: %w", t.name(), err)
		}
		if o.ImageId != nil && digest == "" {
			digest = aws.ToString(o.ImageId.ImageDigest)
		}
		if st := o.ImageScanStatus; st != nil {
			switch st.Status {
			case ecrtypes.ScanStatusInProgress, ecrtypes.ScanStatusPending:
				return nil, digest, inconclusive{fmt.Sprintf("ECR: scan of %s is %s", t.name(), st.Status)}
			case ecrtypes.ScanStatusFailed, ecrtypes.ScanStatusUnsupportedImage, ecrtypes.ScanStatusScanEligibilityExpired, ecrtypes.ScanStatusFindingsUnavailable, ecrtypes.ScanStatusLimitExceeded:
				return nil, digest, fmt.Errorf("ECR: scan of %s is %s: %s", t.name(), st.Status, aws.ToString(st.Description))
			}
		}
		if f := o.ImageScanFindings; f != nil {
			for _, x := range f.Findings {
				out = append(out, triage.FromECRFinding(x, t.repo, digest))
			}
			for _, x := range f.EnhancedFindings {
				out = append(out, triage.FromECREnhancedFinding(x, t.repo, digest))
			}
		}
	}
	return out, digest, nil
}

func (s *sampler) fromInspector(ctx context.Context, t target, digest string) ([]triage.Finding, error) {
	eq := func(v string) []i2types.StringFilter {
		return []i2types.StringFilter{{Comparison: i2types.StringComparisonEquals, Value: aws.String(v)}}
	}
	fc := &i2types.FilterCriteria{
		EcrImageHash:           eq(digest),
		EcrImageRepositoryName: eq(t.repo),
		FindingStatus:          eq(string(i2types.FindingStatusActive)),
	}
	if t.registry != "" {
		fc.EcrImageRegistry = eq(t.registry)
	}
	p := inspector2.NewListFindingsPaginator(s.o.Inspector, &inspector2.ListFindingsInput{FilterCriteria: fc, MaxResults: aws.Int32(100)})
	var out []triage.Finding
	for page := 0; p.HasMorePages() && page < maxPages; page++ {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("Inspector2 ListFindings %s@%s: %w", t.repo, digest, err)
		}
		for _, x := range o.Findings {
			out = append(out, triage.FromInspector2(x))
		}
	}
	return out, nil
}

// dedupe drops the same vulnerability reported twice (ECR's enhanced
// findings are Inspector's), keeping the most severe copy.
func dedupe(fs []triage.Finding) []triage.Finding {
	seen := map[string]int{}
	var out []triage.Finding
	for _, f := range fs {
		k := f.ID
		if len(f.Vulnerabilities) > 0 {
			k = f.Vulnerabilities[0] + "|" + strings.Join(f.Packages, ",")
		}
		if i, ok := seen[k]; ok {
			if f.Severity > out[i].Severity || f.InspectorScore > out[i].InspectorScore {
				out[i] = f
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, f)
	}
	return out
}

func (t target) name() string {
	if t.digest != "" {
		return t.repo + "@" + t.digest
	}
	return t.repo + ":" + t.tag
}

func (t target) expected() string {
	e := "no finding above " + t.maxSeverity.String()
	if t.maxScore > 0 {
		e += fmt.Sprintf(" and no risk score above %.0f", t.maxScore)
	}
	return e
}

func findingName(f triage.Finding) string {
	name := f.Title
	if name == "" && len(f.Vulnerabilities) > 0 {
		name = f.Vulnerabilities[0]
	}
	if name == "" {
		name = f.ID
	}
	return name
}

func fixText(f triage.Finding) string {
	if f.FixAvailable {
		return ", fix available"
	}
	return ""
}

func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}
