package spec_test

import (
	"fmt"

	"github.com/postdeploy/postdeploy/pkg/spec"
)

func ExampleParse() {
	s, err := spec.Parse([]byte(`
bake: 5m
checks:
  - name: api-health
    http: {url: "https://#{HOST}/health"}
    expect: 'status == 200'
`), map[string]string{"HOST": "api.example.com"})
	fmt.Println(s.Bake, s.Interval, s.Checks[0].Kind(), s.Checks[0].HTTP.URL, err)

	_, err = spec.Parse([]byte(`
bake: ten minutes
checks:
  - name: api-health
    htpp: {url: "https://api.example.com/health"}
`), nil)
	fmt.Println(err)
	// Output:
	// 5m0s 30s http https://api.example.com/health <nil>
	// invalid spec: 2 problems:
	// - bake: must be a duration like "30s" or "10m", got "ten minutes"
	// - checks[0].htpp: unknown check kind or field "htpp" (kinds: http, alarms, metric, compare, headers, imageScan; fields: critical, expect, externalId, minSamples, name, noData, region, roleArn); did you mean "http"?
}
