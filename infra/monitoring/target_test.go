package monitoring

import (
	"strings"
	"testing"
)

func TestTargetValidate(t *testing.T) {
	tests := []struct {
		name    string
		target  Target
		wantErr []string
	}{
		{name: "load balancer only", target: Target{Name: "shop", LoadBalancer: "app/shop/50dc6c495c0c9188"}},
		{name: "everything", target: Target{
			Name: "shop", InstanceID: "i-0123456789abcdef0", LoadBalancer: "app/shop/1",
			Disk: map[string]string{"path": "/"}, SignIns: &MetricRef{Namespace: "Shop", MetricName: "SignIns"},
		}},
		{name: "nothing to watch", target: Target{Name: "shop"}, wantErr: []string{"set at least one"}},
		{name: "every problem", target: Target{
			Name: "shop app", AutoScalingGroup: "g", InstanceID: "0123",
			LoadBalancer: "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/shop/1",
			Disk:         map[string]string{"path": ""}, SignIns: &MetricRef{},
		}, wantErr: []string{
			`application.name="shop app"`, "set one, not both", `application.instanceId="0123"`,
			"not the ARN", `application.disk["path"]`, "signIns.namespace: required", "signIns.metricName: required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.target.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Errorf("Validate(%+v) = %v; want nil", tt.target, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%+v) = nil; want errors %q", tt.target, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%+v) = %q; want it to mention %q", tt.target, err, w)
				}
			}
		})
	}
}

func TestAlarmSetRejectsMissingTopics(t *testing.T) {
	// Validation happens before any construct is made: no scope needed.
	_, err := NewAlarmSet(nil, "Shop", AlarmSetProps{Target: Target{Name: "shop", LoadBalancer: "app/shop/1"}})
	if err == nil || !strings.Contains(err.Error(), "no application topic") {
		t.Errorf("NewAlarmSet without topics: error %v; want \"no application topic\"", err)
	}
}
