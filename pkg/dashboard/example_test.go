package dashboard_test

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/dashboard"
)

func ExampleParse() {
	body := `{"widgets":[
	  {"type":"text","properties":{"markdown":"# Shop"}},
	  {"type":"metric","properties":{"title":"Latency","stat":"p90","metrics":[
	    ["AWS/ApplicationELB","TargetResponseTime","LoadBalancer","app/shop/1"],
	    [".","RequestCount",".",".",{"stat":"Sum","label":"Requests"}]]}}]}`
	b, err := dashboard.Parse([]byte(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range b.Widgets {
		for _, s := range w.Series {
			fmt.Printf("%s: %s\n", w.Title, s)
		}
	}
	// Output:
	// Latency: AWS/ApplicationELB/TargetResponseTime {LoadBalancer=app/shop/1}, p90
	// Latency: Requests: AWS/ApplicationELB/RequestCount {LoadBalancer=app/shop/1}, Sum
}
