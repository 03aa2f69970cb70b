package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

// Listener URLs: a hook spec can probe the green task set through the
// test listener as #{TEST_LISTENER_URL} (and the blue one through the
// production listener as #{PROD_LISTENER_URL}) instead of hard-coding
// the load balancer's address. CodeDeploy names the listeners only by
// ARN (TEST_LISTENER_ARN, PROD_LISTENER_ARN, hookresolve.go); the URL is
// read from Elastic Load Balancing:
//   - DescribeListeners with ListenerArns: the listener's Port, Protocol
//     and LoadBalancerArn (Elastic Load Balancing API Reference,
//     "DescribeListeners" and "Listener"); an ARN it does not know is
//     ListenerNotFound;
//   - DescribeLoadBalancers with LoadBalancerArns: the load balancer's
//     DNSName (API Reference, "DescribeLoadBalancers" and
//     "LoadBalancer"); an unknown ARN is LoadBalancerNotFound.
//
// The URL is scheme://DNSName:Port with the scheme from the listener's
// protocol: https for HTTPS (and TLS, a Network Load Balancer listener
// that terminates TLS), http for HTTP (and TCP). Other protocols (UDP,
// TCP_UDP, GENEVE, QUIC) carry no HTTP, and the hook fails naming the
// protocol. Neither call supports resource-level permissions (Service
// Authorization Reference, "Actions, resources, and condition keys for
// AWS Elastic Load Balancing V2"), so infra grants them on "*"
// (infra/stack/hooks.go).
//
// Only a hook section that refers to a URL variable (spec.Refers) costs
// the calls: every other hook, and every ECS hook of a group whose spec
// does not use them, makes none.

// ELBv2API is the part of *elasticloadbalancingv2.Client the hook
// handler uses.
type ELBv2API interface {
	DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
}

var _ ELBv2API = (*elbv2.Client)(nil)

// The listener URL variables.
const (
	VarTestListenerURL = "TEST_LISTENER_URL"
	VarProdListenerURL = "PROD_LISTENER_URL"
)

// listenerURLVars pairs each URL variable with the ARN variable it is
// read from.
var listenerURLVars = []struct{ url, arn string }{
	{VarTestListenerURL, VarTestListenerARN},
	{VarProdListenerURL, VarProdListenerARN},
}

// listenerVars returns run's variables plus the listener URLs section
// refers to, read from Elastic Load Balancing. vars is returned as is
// when section refers to none. An error names the variable, the
// listener and what to fix.
func listenerVars(ctx context.Context, api ELBv2API, vars map[string]string, section []byte) (map[string]string, error) {
	out, cloned := vars, false
	for _, v := range listenerURLVars {
		if !spec.Refers(section, v.url) {
			continue
		}
		arn := vars[v.arn]
		if arn == "" {
			return nil, fmt.Errorf("the hook spec uses #{%s}, but the deployment has no such listener (CodeDeploy's loadBalancerInfo.targetGroupPairInfoList names none, so #{%s} is not set either): use it only in the hooks of an ECS blue/green deployment group with that listener", v.url, v.arn)
		}
		if api == nil {
			return nil, fmt.Errorf("the hook spec uses #{%s}, but this verify function has no Elastic Load Balancing client to read listener %s with", v.url, arn)
		}
		u, err := listenerURL(ctx, api, arn)
		if err != nil {
			return nil, fmt.Errorf("could not resolve #{%s}: %w", v.url, err)
		}
		if !cloned {
			out, cloned = maps.Clone(vars), true
		}
		out[v.url] = u
	}
	return out, nil
}

// listenerURL reads the listener arn and its load balancer and makes
// the URL they serve.
func listenerURL(ctx context.Context, api ELBv2API, arn string) (string, error) {
	lo, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
	var lnf *elbtypes.ListenerNotFoundException
	switch {
	case errors.As(err, &lnf):
		return "", fmt.Errorf("listener %s does not exist (DescribeListeners: ListenerNotFound): the deployment group names a listener Elastic Load Balancing does not have; fix its load balancer info: %w", arn, err)
	case err != nil:
		return "", fmt.Errorf("DescribeListeners %s: %w; verify's role needs elasticloadbalancing:DescribeListeners (on \"*\"): check its policy, or retry the deployment if this was throttling or an outage", arn, err)
	case len(lo.Listeners) != 1:
		return "", fmt.Errorf("DescribeListeners %s answered %d listeners; want exactly that one", arn, len(lo.Listeners))
	}
	l := lo.Listeners[0]
	var scheme string
	switch l.Protocol {
	case elbtypes.ProtocolEnumHttps, elbtypes.ProtocolEnumTls:
		scheme = "https"
	case elbtypes.ProtocolEnumHttp, elbtypes.ProtocolEnumTcp:
		scheme = "http"
	default:
		return "", fmt.Errorf("listener %s uses protocol %q, which carries no HTTP: probe it another way (only HTTP, HTTPS, TCP and TLS listeners have a URL)", arn, l.Protocol)
	}
	port := aws.ToInt32(l.Port)
	if port < 1 || port > 65535 {
		return "", fmt.Errorf("listener %s has port %d; want 1-65535", arn, port)
	}
	lbARN := aws.ToString(l.LoadBalancerArn)
	if lbARN == "" {
		return "", fmt.Errorf("DescribeListeners %s gave no LoadBalancerArn", arn)
	}
	bo, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	var lbnf *elbtypes.LoadBalancerNotFoundException
	switch {
	case errors.As(err, &lbnf):
		return "", fmt.Errorf("load balancer %s of listener %s does not exist (DescribeLoadBalancers: LoadBalancerNotFound): %w", lbARN, arn, err)
	case err != nil:
		return "", fmt.Errorf("DescribeLoadBalancers %s (of listener %s): %w; verify's role needs elasticloadbalancing:DescribeLoadBalancers (on \"*\"): check its policy, or retry the deployment if this was throttling or an outage", lbARN, arn, err)
	case len(bo.LoadBalancers) != 1:
		return "", fmt.Errorf("DescribeLoadBalancers %s answered %d load balancers; want exactly that one", lbARN, len(bo.LoadBalancers))
	}
	dns := aws.ToString(bo.LoadBalancers[0].DNSName)
	if dns == "" {
		return "", fmt.Errorf("load balancer %s of listener %s has no DNSName", lbARN, arn)
	}
	return scheme + "://" + net.JoinHostPort(dns, strconv.Itoa(int(port))), nil
}
