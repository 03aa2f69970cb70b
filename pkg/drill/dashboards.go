package drill

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/dashboard"
)

// dataWindow is how far back a widget's metrics must have data.
const dataWindow = 24 * time.Hour

// defaultPeriod is a dashboard widget's period when it sets none (the
// dashboard body's documented default, 300 s).
const defaultPeriod = 300

// checkDashboards asks GetMetricData, for each metric widget of each
// dashboard, whether its series had data in the last day.
func (d *Drill) checkDashboards(ctx context.Context, names []string) []WidgetCheck {
	var out []WidgetCheck
	for _, name := range names {
		got, err := d.Alarms.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
		if err != nil {
			out = append(out, WidgetCheck{Dashboard: name, Widget: "(dashboard)", Err: fmt.Sprintf("GetDashboard: %v", err)})
			continue
		}
		body, err := dashboard.Parse([]byte(aws.ToString(got.DashboardBody)))
		if err != nil {
			out = append(out, WidgetCheck{Dashboard: name, Widget: "(dashboard)", Err: err.Error()})
			continue
		}
		for i, w := range body.Widgets {
			if w.Type != "metric" || len(w.Series) == 0 {
				continue
			}
			title := w.Title
			if title == "" {
				title = fmt.Sprintf("widget %d", i+1)
			}
			has, err := d.hasData(ctx, w)
			wc := WidgetCheck{Dashboard: name, Widget: title, HasData: has}
			if err != nil {
				wc.Err = err.Error()
			}
			out = append(out, wc)
		}
	}
	return out
}

// hasData runs one GetMetricData over the widget's series: the metrics
// as MetricStat queries, the expressions as they are (CloudWatch API
// Reference, GetMetricData and MetricDataQuery:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
func (d *Drill) hasData(ctx context.Context, w dashboard.Widget) (bool, error) {
	end := d.Now().UTC().Truncate(time.Minute)
	var queries []cwtypes.MetricDataQuery
	for i, s := range w.Series {
		id := s.ID
		if id == "" {
			id = fmt.Sprintf("m%d", i+1)
		}
		q := cwtypes.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(!s.Hidden)}
		period := s.Period
		if period == 0 {
			period = w.Period
		}
		if period == 0 {
			period = defaultPeriod
		}
		if s.Expression != "" {
			q.Expression = aws.String(s.Expression)
			q.Period = aws.Int32(int32(period))
		} else {
			dims := make([]cwtypes.Dimension, len(s.Dimensions))
			for j, dm := range s.Dimensions {
				dims[j] = cwtypes.Dimension{Name: aws.String(dm[0]), Value: aws.String(dm[1])}
			}
			q.MetricStat = &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String(s.Namespace), MetricName: aws.String(s.Name), Dimensions: dims},
				Period: aws.Int32(int32(period)), Stat: aws.String(s.Stat),
			}
		}
		queries = append(queries, q)
	}
	p := cloudwatch.NewGetMetricDataPaginator(d.Alarms, &cloudwatch.GetMetricDataInput{
		MetricDataQueries: queries, StartTime: aws.Time(end.Add(-dataWindow)), EndTime: aws.Time(end),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("GetMetricData: %w", err)
		}
		for _, r := range page.MetricDataResults {
			if len(r.Values) > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}
