package standin

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

const (
	testLB       = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/orders/50dc6c495c0c9188"
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/orders/50dc6c495c0c9188/test8443"
	prodListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/orders/50dc6c495c0c9188/prod443"
)

func elbServer(t *testing.T) (*Server, *elbv2.Client) {
	t.Helper()
	s := startServer(t, Scenario{})
	s.AddLoadBalancer(LoadBalancer{ARN: testLB, Name: "orders", DNSName: "orders-1234567890.us-east-1.elb.amazonaws.com", Listeners: []LBListener{
		{ARN: testListener, Protocol: "HTTPS", Port: 8443}, {ARN: prodListener, Protocol: "HTTP", Port: 80},
	}})
	return s, elbv2.NewFromConfig(awsConfig(t, s))
}

// DescribeListeners and DescribeLoadBalancers answer the real SDK over
// awsQuery as the Elastic Load Balancing API Reference documents them.
func TestELBv2DescribeThroughSDK(t *testing.T) {
	s, c := elbServer(t)
	lo, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{ListenerArns: []string{testListener}})
	if err != nil {
		t.Fatalf("DescribeListeners(%s) = %v", testListener, err)
	}
	if len(lo.Listeners) != 1 {
		t.Fatalf("DescribeListeners(%s) gave %d listeners; want 1", testListener, len(lo.Listeners))
	}
	l := lo.Listeners[0]
	if aws.ToString(l.ListenerArn) != testListener || aws.ToInt32(l.Port) != 8443 || l.Protocol != elbtypes.ProtocolEnumHttps || aws.ToString(l.LoadBalancerArn) != testLB {
		t.Errorf("listener = %s port %d %s on %s; want %s port 8443 HTTPS on %s", aws.ToString(l.ListenerArn), aws.ToInt32(l.Port), l.Protocol, aws.ToString(l.LoadBalancerArn), testListener, testLB)
	}
	all, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(testLB)})
	if err != nil || len(all.Listeners) != 2 {
		t.Errorf("DescribeListeners(LoadBalancerArn %s) = %v, %v; want its 2 listeners", testLB, all, err)
	}
	bo, err := c.DescribeLoadBalancers(ctxT(t), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{testLB}})
	if err != nil {
		t.Fatalf("DescribeLoadBalancers(%s) = %v", testLB, err)
	}
	if len(bo.LoadBalancers) != 1 || aws.ToString(bo.LoadBalancers[0].DNSName) != "orders-1234567890.us-east-1.elb.amazonaws.com" {
		t.Errorf("DescribeLoadBalancers(%s) = %+v; want one with its DNSName", testLB, bo.LoadBalancers)
	}
	if calls := s.CallsTo(ELBv2, "DescribeListeners"); len(calls) != 2 || calls[0].Protocol != ProtoQuery {
		t.Errorf("recorded DescribeListeners calls %+v; want 2 over awsQuery", calls)
	}
}

// Strict where AWS is: an unknown ARN is ListenerNotFound or
// LoadBalancerNotFound (API Reference, DescribeListeners and
// DescribeLoadBalancers, "Errors"), a call naming nothing is refused
// ("You must specify either a load balancer or one or more listeners").
func TestELBv2Strict(t *testing.T) {
	_, c := elbServer(t)
	for _, tc := range []struct {
		name string
		call func() error
		want any // pointer to the typed error, or a code
	}{
		{"unknown listener", func() error {
			_, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{ListenerArns: []string{testListener + "x"}})
			return err
		}, new(*elbtypes.ListenerNotFoundException)},
		{"one unknown among known", func() error {
			_, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{ListenerArns: []string{testListener, "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/gone/1/2"}})
			return err
		}, new(*elbtypes.ListenerNotFoundException)},
		{"listeners of an unknown load balancer", func() error {
			_, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(testLB + "x")})
			return err
		}, new(*elbtypes.LoadBalancerNotFoundException)},
		{"unknown load balancer", func() error {
			_, err := c.DescribeLoadBalancers(ctxT(t), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{testLB + "x"}})
			return err
		}, new(*elbtypes.LoadBalancerNotFoundException)},
		{"unknown load balancer name", func() error {
			_, err := c.DescribeLoadBalancers(ctxT(t), &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
			return err
		}, new(*elbtypes.LoadBalancerNotFoundException)},
		{"listeners of nothing", func() error {
			_, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{})
			return err
		}, "ValidationError"},
		{"page size out of range", func() error {
			_, err := c.DescribeListeners(ctxT(t), &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(testLB), PageSize: aws.Int32(401)})
			return err
		}, "ValidationError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch w := tc.want.(type) {
			case **elbtypes.ListenerNotFoundException:
				if !errors.As(err, w) {
					t.Errorf("error = %v; want ListenerNotFoundException", err)
				}
			case **elbtypes.LoadBalancerNotFoundException:
				if !errors.As(err, w) {
					t.Errorf("error = %v; want LoadBalancerNotFoundException", err)
				}
			case string:
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != w {
					t.Errorf("error = %v; want code %s", err, w)
				}
			}
		})
	}
}
