// Package registry maps each check kind named in a spec to the factory
// that builds its sampler. It is the one place a kind is added, and it
// fails loudly — listing the kinds it has — on a kind it does not know.
package registry

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/check/alarms"
	"github.com/postdeploy/postdeploy/pkg/check/compare"
	"github.com/postdeploy/postdeploy/pkg/check/headers"
	"github.com/postdeploy/postdeploy/pkg/check/httpcheck"
	"github.com/postdeploy/postdeploy/pkg/check/imagescan"
	"github.com/postdeploy/postdeploy/pkg/check/metrics"
	"github.com/postdeploy/postdeploy/pkg/config"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

// CloudWatch is the part of *cloudwatch.Client the checks use.
type CloudWatch interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// Clients are what checks are built from. main builds them once per cold
// start; tests pass fakes.
type Clients struct {
	CloudWatch CloudWatch
	ECR        imagescan.ECRAPI
	Inspector  imagescan.InspectorAPI
	// RootCAs, when set, replaces the system roots for HTTPS probes (tests
	// use it to trust an httptest server; production leaves it nil).
	RootCAs *x509.CertPool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Assumer, when set, gives the checks of a spec that names roleArn or
	// region (spec.Where) their credentials and region for this
	// invocation; without it such a spec is refused.
	Assumer *awsclient.Assumer
	// AllowLoopback lets http and headers probes reach loopback services
	// (127.0.0.0/8, ::1) — local runs only (make demo, tests). main sets
	// it from the environment with LocalProbes; a spec cannot. It never
	// opens the Lambda Runtime API, unspecified addresses or the host's
	// other addresses.
	AllowLoopback bool
}

// LocalProbesLoopback is the one value of config.EnvLocalProbes.
const LocalProbesLoopback = "loopback"

// LocalProbes reads config.EnvLocalProbes: unset or empty in production,
// "loopback" when the local harness lets probes reach loopback services.
// Any other value is an error naming the variable, not a silent default.
func LocalProbes(getenv func(string) string) (allowLoopback bool, err error) {
	switch v := getenv(config.EnvLocalProbes); v {
	case "":
		return false, nil
	case LocalProbesLoopback:
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: must be unset (production) or %q (local runs that probe loopback services)", config.EnvLocalProbes, v, LocalProbesLoopback)
	}
}

// Factory builds the sampler for every check of one kind in a spec. It
// validates what only the kind knows (expressions, rule names) and returns
// every problem with its path.
type Factory func(c Clients, items []check.Item) (check.Sampler, spec.Errors)

// factories is the registry: the one place a kind is tied to the code
// that runs it. A new kind also needs its spec shape (a field of
// spec.Check, its name in spec.Kinds and its validation in pkg/spec);
// TestEverySpecKindIsRegistered fails until both sides agree.
var factories = map[string]Factory{
	spec.KindHTTP: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return httpcheck.New(c.httpOptions(), items)
	},
	spec.KindHeaders: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return headers.New(c.httpOptions(), items)
	},
	spec.KindAlarms: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return alarms.New(alarms.Options{API: c.CloudWatch, Now: c.Now}, items)
	},
	spec.KindMetric: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return metrics.New(metrics.Options{API: c.CloudWatch, Now: c.Now}, items)
	},
	spec.KindImageScan: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return imagescan.New(imagescan.Options{ECR: c.ECR, Inspector: c.Inspector, Now: c.Now}, items)
	},
	spec.KindCompare: func(c Clients, items []check.Item) (check.Sampler, spec.Errors) {
		return compare.New(compare.Options{API: c.CloudWatch, Now: c.Now}, items)
	},
}

func (c Clients) httpOptions() httpcheck.Options {
	return httpcheck.Options{RootCAs: c.RootCAs, Now: c.Now, AllowLoopback: c.AllowLoopback}
}

// Available lists the kinds this build can run, sorted.
func Available() []string {
	ks := make([]string, 0, len(factories))
	for k := range factories {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Build groups a validated spec's checks by kind and builds each group's
// sampler. The error, when not nil, is a spec.Errors listing every
// problem, none repeating a secret the spec carries. The suite redacts its
// results with the spec's Redactor.
func Build(s spec.Spec, c Clients) (check.Suite, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	// One group per kind and account/region (spec.Where): a group's
	// sampler calls AWS with one set of credentials in one region.
	type group struct {
		kind  string
		where spec.Where
	}
	var (
		errs  spec.Errors
		order []group
		byK   = map[group][]check.Item{}
	)
	for i, ch := range s.Checks {
		k := ch.Kind()
		if _, ok := factories[k]; !ok {
			errs.Add(spec.Index("checks", i), "check kind %q is not available (available: %s)", k, strings.Join(Available(), ", "))
			continue
		}
		g := group{kind: k}
		if ch.CallsAWS() {
			g.where = s.Of(i)
		}
		if !g.where.IsZero() && c.Assumer == nil {
			errs.Add(spec.Index("checks", i), "this build of verify cannot look at other accounts or regions: remove roleArn and region, or run verify as the postdeploy stack deploys it")
			continue
		}
		if _, seen := byK[g]; !seen {
			order = append(order, g)
		}
		byK[g] = append(byK[g], check.Item{Index: i, Check: ch})
	}
	suite := check.Suite{Count: len(s.Checks), Redactor: s.Redactor()}
	for _, g := range order {
		sampler, ferrs := factories[g.kind](c.at(g.where), byK[g])
		errs = append(errs, ferrs...)
		if sampler != nil && len(ferrs) == 0 {
			suite.Groups = append(suite.Groups, check.Group{Kind: g.kind, Items: byK[g], Sampler: sampler})
		}
	}
	if len(errs) > 0 {
		r := s.Redactor() // a kind's message may quote a value the spec sets
		for i := range errs {
			errs[i].Msg = r.String(errs[i].Msg)
		}
		return check.Suite{}, errs
	}
	return suite, nil
}
