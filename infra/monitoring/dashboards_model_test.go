package monitoring

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/postdeploy/postdeploy/infra/monitoring/widgets"
)

// One app, two stacks (each jsii synth costs seconds): without the
// businessMetrics context the Business Metrics dashboard is left out with
// a synth-time warning; with it, the dashboard reads exactly the
// configured metrics with the views the plan asks for.
func TestModelDashboards(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{}})
	bare := awscdk.NewStack(app, jsii.String("Bare"), nil)
	business, err := BusinessFromContext(bare)
	if err != nil || business != nil {
		t.Fatalf("BusinessFromContext(no context) = %v, %v; want nil, nil", business, err)
	}
	if _, err := NewModelDashboards(bare, "Model", ModelDashboardsProps{NamePrefix: "shop-", MetricNamespace: "Shop/Delivery", Business: business}); err != nil {
		t.Fatal(err)
	}
	conf := awscdk.NewStack(app, jsii.String("Configured"), nil)
	conf.Node().SetContext(jsii.String(widgets.BusinessContextKey), map[string]any{
		"dailySignUps":        map[string]any{"namespace": "Shop", "name": "SignUps", "statistic": "Sum"},
		"revenuePerHour":      map[string]any{"namespace": "Shop", "name": "Revenue", "dimensions": map[string]any{"Currency": "EUR"}, "statistic": "Sum"},
		"activeSubscriptions": map[string]any{"namespace": "Shop", "name": "ActiveSubscriptions", "statistic": "Maximum"},
		"churnRate":           map[string]any{"namespace": "Shop", "name": "ChurnRate", "statistic": "Average"},
	})
	business, err = BusinessFromContext(conf)
	if err != nil || business == nil {
		t.Fatalf("BusinessFromContext(configured) = %v, %v; want a configuration", business, err)
	}
	if _, err := NewModelDashboards(conf, "Model", ModelDashboardsProps{NamePrefix: "conf-", Business: business}); err != nil {
		t.Fatal(err)
	}

	tb := assertions.Template_FromStack(bare, nil)
	tb.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(3))
	warn := assertions.Annotations_FromStack(bare).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("Business Metrics.*left out.*businessMetrics")))
	if warn == nil || len(*warn) != 1 {
		t.Errorf("synth warnings about Business Metrics = %v; want one", warn)
	}
	tc := assertions.Template_FromStack(conf, nil)
	tc.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(4))
	bodies := map[string]string{}
	for _, tpl := range []assertions.Template{tb, tc} {
		for _, r := range *tpl.FindResources(jsii.String("AWS::CloudWatch::Dashboard"), nil) {
			p := (*r)["Properties"].(map[string]any)
			b, _ := json.Marshal(p["DashboardBody"])
			bodies[p["DashboardName"].(string)] = string(b)
		}
	}
	for name, want := range map[string][]string{
		"shop-Delivery-Performance":    {`Shop/Delivery,Pipeline`, "Deployments", "LeadTimeForChanges", "ChangeFailures", "TimeToRestore"},
		"conf-Business-Metrics":        {`\"view\":\"bar\"`, `\"view\":\"gauge\"`, `\"view\":\"singleValue\"`, `\"Shop\",\"ChurnRate\"`, `\"Currency\",\"EUR\"`, `{"Ref":"AWS::Region"}`},
		"shop-Infrastructure-Overview": {"AWS/EC2,InstanceId", "AWS/ECS,ClusterName", "AWS/RDS,DBInstanceIdentifier"},
		"shop-Application-Deep-Dive":   {"AWS/ApiGateway,ApiName", "AWS/Lambda,FunctionName"},
	} {
		body, ok := bodies[name]
		if !ok {
			t.Errorf("no dashboard %q among %d", name, len(bodies))
			continue
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("dashboard %q does not contain %s", name, w)
			}
		}
	}
}
