package standin

import "slices"

// Elastic Load Balancing (v2), the two reads verify makes to turn a
// CodeDeploy listener ARN into a URL (pkg/verify/hooklisteners.go). The
// service speaks awsQuery (Version 2015-12-01) with XML answers, routed
// by the SigV4 credential scope "elasticloadbalancing". The operations
// answer as the Elastic Load Balancing API Reference documents them:
//   - DescribeListeners: "You must specify either a load balancer or one
//     or more listeners" (ValidationError otherwise); each ARN of
//     ListenerArns must exist (ListenerNotFound, HTTP 400), as must
//     LoadBalancerArn (LoadBalancerNotFound); PageSize is 1-400;
//   - DescribeLoadBalancers: each of LoadBalancerArns (at most 20 in one
//     call) and Names must exist (LoadBalancerNotFound); neither answers
//     every load balancer; PageSize is 1-400.
// The stand-in answers every match on one page (no NextMarker).
//
// Stand-in liberty: a LoadBalancer's DNSName is whatever the scenario
// seeds, so the demo can make it "127.0.0.1" and a listener's Port the
// sample service's, and a hook spec's #{TEST_LISTENER_URL} reaches the
// local service. AWS's DNS names are <name>-<id>.<region>.elb.amazonaws.com.

// ELBv2 is Elastic Load Balancing v2 as Call.Service and Inject name it
// (its SigV4 signing name).
const ELBv2 = "elasticloadbalancing"

// LoadBalancer seeds an Application or Network Load Balancer and its
// listeners.
type LoadBalancer struct {
	ARN     string
	Name    string
	DNSName string
	// Type is application (default) or network.
	Type      string
	Listeners []LBListener
}

// LBListener is one listener of a LoadBalancer.
type LBListener struct {
	ARN string
	// Protocol is HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP or GENEVE.
	Protocol string
	Port     int
}

type elbState struct {
	lbs       map[string]*LoadBalancer // by ARN
	listeners map[string]string        // listener ARN → load balancer ARN
}

// AddLoadBalancer seeds lb and its listeners and returns the server for
// chaining.
func (s *Server) AddLoadBalancer(lb LoadBalancer) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.elb.lbs == nil {
		s.st.elb.lbs, s.st.elb.listeners = map[string]*LoadBalancer{}, map[string]string{}
	}
	c := lb
	c.Listeners = append([]LBListener(nil), lb.Listeners...)
	if c.Type == "" {
		c.Type = "application"
	}
	s.st.elb.lbs[c.ARN] = &c
	for _, l := range c.Listeners {
		s.st.elb.listeners[l.ARN] = c.ARN
	}
	return s
}

func elbPageSize(req *request) error {
	if _, set := req.input["PageSize"]; !set {
		return nil
	}
	if n, ok := intField(req.input, "PageSize"); !ok || n < 1 || n > 400 {
		return apiErr(400, "ValidationError", "1 validation error detected: Value at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400")
	}
	return nil
}

func elbListenerTree(l LBListener, lbARN string) map[string]any {
	return map[string]any{"ListenerArn": l.ARN, "LoadBalancerArn": lbARN, "Port": l.Port, "Protocol": l.Protocol}
}

func elbDescribeListeners(s *Server, req *request) (any, error) {
	if err := elbPageSize(req); err != nil {
		return nil, err
	}
	arns := strList(req.input, "ListenerArns")
	lbARN := str(req.input, "LoadBalancerArn")
	if len(arns) == 0 && lbARN == "" {
		return nil, apiErr(400, "ValidationError", "You must specify either listener ARNs or a load balancer ARN")
	}
	out := []any{}
	if lbARN != "" {
		lb, ok := s.st.elb.lbs[lbARN]
		if !ok {
			return nil, apiErr(400, "LoadBalancerNotFound", "Load balancer '%s' not found", lbARN)
		}
		for _, l := range lb.Listeners {
			if len(arns) == 0 || slices.Contains(arns, l.ARN) {
				out = append(out, elbListenerTree(l, lb.ARN))
			}
		}
		if len(arns) == 0 {
			return map[string]any{"Listeners": out}, nil
		}
		out = out[:0]
	}
	for _, a := range arns {
		owner, ok := s.st.elb.listeners[a]
		if !ok || lbARN != "" && owner != lbARN {
			return nil, apiErr(400, "ListenerNotFound", "One or more listeners not found")
		}
		for _, l := range s.st.elb.lbs[owner].Listeners {
			if l.ARN == a {
				out = append(out, elbListenerTree(l, owner))
			}
		}
	}
	return map[string]any{"Listeners": out}, nil
}

func elbDescribeLoadBalancers(s *Server, req *request) (any, error) {
	if err := elbPageSize(req); err != nil {
		return nil, err
	}
	arns, names := strList(req.input, "LoadBalancerArns"), strList(req.input, "Names")
	if len(arns) > 20 {
		return nil, apiErr(400, "ValidationError", "You can specify up to 20 load balancer ARNs in a single call, not %d", len(arns))
	}
	var pick []*LoadBalancer
	switch {
	case len(arns) == 0 && len(names) == 0:
		for _, a := range sortedKeys(s.st.elb.lbs) {
			pick = append(pick, s.st.elb.lbs[a])
		}
	default:
		for _, a := range arns {
			lb, ok := s.st.elb.lbs[a]
			if !ok {
				return nil, apiErr(400, "LoadBalancerNotFound", "One or more load balancers not found")
			}
			pick = append(pick, lb)
		}
		for _, n := range names {
			var found *LoadBalancer
			for _, a := range sortedKeys(s.st.elb.lbs) {
				if lb := s.st.elb.lbs[a]; lb.Name == n {
					found = lb
				}
			}
			if found == nil {
				return nil, apiErr(400, "LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
			pick = append(pick, found)
		}
	}
	out := []any{}
	for _, lb := range pick {
		out = append(out, map[string]any{
			"LoadBalancerArn": lb.ARN, "LoadBalancerName": lb.Name, "DNSName": lb.DNSName,
			"Type": lb.Type, "Scheme": "internet-facing", "IpAddressType": "ipv4",
			"State": map[string]any{"Code": "active"}, "CreatedTime": s.st.start,
			"CanonicalHostedZoneId": "Z35SXDOTRQ7X7K", "VpcId": "vpc-0123456789abcdef0",
			"AvailabilityZones": []any{map[string]any{"ZoneName": Region + "a", "SubnetId": "subnet-0123456789abcdef0"}},
		})
	}
	return map[string]any{"LoadBalancers": out}, nil
}
