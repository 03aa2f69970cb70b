package verify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/spec"
)

const (
	prodListener = "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/orders/0123456789abcdef/prod"
	ordersLB     = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/orders/0123456789abcdef"
)

// fakeELB answers as the Elastic Load Balancing API Reference documents
// DescribeListeners and DescribeLoadBalancers by ARN: an unknown
// listener is ListenerNotFound, an unknown load balancer
// LoadBalancerNotFound.
type fakeELB struct {
	mu        sync.Mutex
	listeners map[string]elbtypes.Listener
	dns       map[string]string // load balancer ARN → DNSName
	denyL     bool              // DescribeListeners is AccessDenied
	denyLB    bool              // DescribeLoadBalancers is AccessDenied
	calls     []string
}

var _ ELBv2API = (*fakeELB)(nil)

func newFakeELB() *fakeELB {
	return &fakeELB{
		listeners: map[string]elbtypes.Listener{
			testListener: {ListenerArn: aws.String(testListener), LoadBalancerArn: aws.String(ordersLB), Port: aws.Int32(8443), Protocol: elbtypes.ProtocolEnumHttps},
			prodListener: {ListenerArn: aws.String(prodListener), LoadBalancerArn: aws.String(ordersLB), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp},
		},
		dns: map[string]string{ordersLB: "orders-123.us-east-1.elb.amazonaws.com"},
	}
}

func denied(action string) error {
	return &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform: " + action}
}

func (f *fakeELB) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribeListeners")
	if f.denyL {
		return nil, denied("elasticloadbalancing:DescribeListeners")
	}
	out := &elbv2.DescribeListenersOutput{}
	for _, a := range in.ListenerArns {
		l, ok := f.listeners[a]
		if !ok {
			return nil, &elbtypes.ListenerNotFoundException{Message: aws.String("One or more listeners not found")}
		}
		out.Listeners = append(out.Listeners, l)
	}
	return out, nil
}

func (f *fakeELB) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribeLoadBalancers")
	if f.denyLB {
		return nil, denied("elasticloadbalancing:DescribeLoadBalancers")
	}
	out := &elbv2.DescribeLoadBalancersOutput{}
	for _, a := range in.LoadBalancerArns {
		d, ok := f.dns[a]
		if !ok {
			return nil, &elbtypes.LoadBalancerNotFoundException{Message: aws.String("One or more load balancers not found")}
		}
		out.LoadBalancers = append(out.LoadBalancers, elbtypes.LoadBalancer{LoadBalancerArn: aws.String(a), DNSName: aws.String(d)})
	}
	return out, nil
}

func (f *fakeELB) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.calls) }

// The URL variables are read from Elastic Load Balancing only when the
// section refers to them, with the scheme from the listener's protocol.
func TestListenerVars(t *testing.T) {
	base := map[string]string{VarDeploymentID: hookDeployment, VarTestListenerARN: testListener, VarProdListenerARN: prodListener}
	for _, tc := range []struct {
		name    string
		section string
		mutate  func(*fakeELB, map[string]string)
		want    map[string]string // the URL variables expected
		calls   int
		wantErr []string // substrings of the error
	}{
		{name: "no reference makes no call", section: `url: "https://a.example.com/#{DEPLOYMENT_ID}"`, want: map[string]string{}},
		{name: "escaped reference makes no call", section: `url: "##{TEST_LISTENER_URL}"`, want: map[string]string{}},
		{name: "HTTPS test listener", section: `url: "#{TEST_LISTENER_URL}/health"`, calls: 2,
			want: map[string]string{VarTestListenerURL: "https://orders-123.us-east-1.elb.amazonaws.com:8443"}},
		{name: "HTTP prod listener", section: `url: "#{PROD_LISTENER_URL}/health"`, calls: 2,
			want: map[string]string{VarProdListenerURL: "http://orders-123.us-east-1.elb.amazonaws.com:80"}},
		{name: "both", section: `a: "#{TEST_LISTENER_URL}" b: "#{ PROD_LISTENER_URL }"`, calls: 4,
			want: map[string]string{VarTestListenerURL: "https://orders-123.us-east-1.elb.amazonaws.com:8443", VarProdListenerURL: "http://orders-123.us-east-1.elb.amazonaws.com:80"}},
		{name: "TLS listener is https", section: `url: "#{TEST_LISTENER_URL}"`, calls: 2, mutate: func(f *fakeELB, _ map[string]string) {
			l := f.listeners[testListener]
			l.Protocol = elbtypes.ProtocolEnumTls
			f.listeners[testListener] = l
		}, want: map[string]string{VarTestListenerURL: "https://orders-123.us-east-1.elb.amazonaws.com:8443"}},
		{name: "UDP listener has no URL", section: `url: "#{TEST_LISTENER_URL}"`, calls: 1, mutate: func(f *fakeELB, _ map[string]string) {
			l := f.listeners[testListener]
			l.Protocol = elbtypes.ProtocolEnumUdp
			f.listeners[testListener] = l
		}, wantErr: []string{"#{TEST_LISTENER_URL}", testListener, `protocol "UDP"`}},
		{name: "listener denied names the permission", section: `url: "#{TEST_LISTENER_URL}"`, calls: 1, mutate: func(f *fakeELB, _ map[string]string) { f.denyL = true },
			wantErr: []string{"#{TEST_LISTENER_URL}", testListener, "elasticloadbalancing:DescribeListeners", "AccessDenied"}},
		{name: "load balancer denied names the permission", section: `url: "#{TEST_LISTENER_URL}"`, calls: 2, mutate: func(f *fakeELB, _ map[string]string) { f.denyLB = true },
			wantErr: []string{"#{TEST_LISTENER_URL}", testListener, ordersLB, "elasticloadbalancing:DescribeLoadBalancers"}},
		{name: "deleted listener", section: `url: "#{TEST_LISTENER_URL}"`, calls: 1, mutate: func(f *fakeELB, _ map[string]string) { delete(f.listeners, testListener) },
			wantErr: []string{testListener, "ListenerNotFound"}},
		{name: "deleted load balancer", section: `url: "#{TEST_LISTENER_URL}"`, calls: 2, mutate: func(f *fakeELB, _ map[string]string) { delete(f.dns, ordersLB) },
			wantErr: []string{ordersLB, testListener, "LoadBalancerNotFound"}},
		{name: "no test listener in the deployment", section: `url: "#{TEST_LISTENER_URL}"`, mutate: func(_ *fakeELB, v map[string]string) { delete(v, VarTestListenerARN) },
			wantErr: []string{"#{TEST_LISTENER_URL}", "no such listener"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeELB()
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			if tc.mutate != nil {
				tc.mutate(f, vars)
			}
			got, err := listenerVars(context.Background(), f, vars, []byte(tc.section))
			if f.count() != tc.calls {
				t.Errorf("listenerVars(%q) made %d calls %v; want %d", tc.section, f.count(), f.calls, tc.calls)
			}
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("listenerVars(%q) = %v, nil; want an error naming %q", tc.section, got, tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("listenerVars(%q) error %q; want it to name %q", tc.section, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("listenerVars(%q) = _, %v; want nil", tc.section, err)
			}
			for _, k := range []string{VarTestListenerURL, VarProdListenerURL} {
				if got[k] != tc.want[k] {
					t.Errorf("listenerVars(%q)[%s] = %q; want %q", tc.section, k, got[k], tc.want[k])
				}
				if _, ok := vars[k]; ok {
					t.Errorf("listenerVars(%q) wrote %s into the caller's map", tc.section, k)
				}
			}
			if got[VarDeploymentID] != hookDeployment {
				t.Errorf("listenerVars(%q) lost DEPLOYMENT_ID: %v", tc.section, got)
			}
		})
	}
}

// A hook spec probes the green task set through the test listener's URL.
func TestHookSpecGetsTheTestListenerURL(t *testing.T) {
	e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
	elb := newFakeELB()
	e.h.ELB = elb
	var got spec.Spec
	build := e.v.Build
	e.v.Build = func(s spec.Spec) (check.Suite, error) { got = s; return build(s) }
	e.ssm.params[hookParam] = hookSpec("bake: 0s\nchecks:\n  - name: green\n    http: {url: \"#{TEST_LISTENER_URL}/health\"}\n")
	e.drive(t, time.Minute)
	if len(got.Checks) != 1 {
		t.Fatalf("Build saw %d checks; want 1 (statuses %v, logs %s)", len(got.Checks), e.cd.statuses, e.logs)
	}
	if u, want := got.Checks[0].HTTP.URL, "https://orders-123.us-east-1.elb.amazonaws.com:8443/health"; u != want {
		t.Errorf("url = %q; want %q", u, want)
	}
	if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusSucceeded {
		t.Errorf("statuses %v; want one Succeeded", e.cd.statuses)
	}
}

// A spec that does not use the URL variables costs no Elastic Load
// Balancing call; one whose listener cannot be read fails the hook once,
// naming the listener and the permission.
func TestHookListenerURLCosts(t *testing.T) {
	t.Run("unused", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		elb := newFakeELB()
		e.h.ELB = elb
		e.ssm.params[hookParam] = hookSpec(greenSpec)
		e.drive(t, time.Minute)
		if n := elb.count(); n != 0 {
			t.Errorf("a spec without listener URLs made %d Elastic Load Balancing calls %v; want 0", n, elb.calls)
		}
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusSucceeded {
			t.Errorf("statuses %v; want one Succeeded", e.cd.statuses)
		}
	})
	t.Run("denied", func(t *testing.T) {
		e := newHookEnv(&scripted{result: pass}, cdtypes.ComputePlatformEcs, "AfterAllowTestTraffic", time.Minute)
		elb := newFakeELB()
		elb.denyL = true
		e.h.ELB = elb
		e.ssm.params[hookParam] = hookSpec("checks:\n  - name: green\n    http: {url: \"#{TEST_LISTENER_URL}/health\"}\n")
		e.drive(t, time.Minute)
		if e.cd.calls() != 1 || e.cd.status(0) != cdtypes.LifecycleEventStatusFailed {
			t.Fatalf("statuses %v; want exactly one Failed", e.cd.statuses)
		}
		for _, w := range []string{testListener, "elasticloadbalancing:DescribeListeners", "TEST_LISTENER_URL"} {
			if !strings.Contains(e.logs.String(), w) {
				t.Errorf("log does not name %q:\n%s", w, e.logs)
			}
		}
		pub := e.published(t)
		if len(pub) != 1 || !strings.Contains(pub[0].Summary, "elasticloadbalancing:DescribeListeners") {
			t.Errorf("published %+v; want one event whose summary names elasticloadbalancing:DescribeListeners", pub)
		}
	})
}
