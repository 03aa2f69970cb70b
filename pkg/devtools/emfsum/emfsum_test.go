package emfsum

import "testing"

func TestSum(t *testing.T) {
	in := []byte(`{"level":"INFO","msg":"not a metric"}
{"Pipeline":"api","Deployments":1,"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"P","Metrics":[{"Name":"Deployments","Unit":"Count"}],"Dimensions":[["Pipeline"]]}]}}
{"Pipeline":"api","Deployments":1,"LeadTimeForChanges":60,"_aws":{"Timestamp":2,"CloudWatchMetrics":[{"Namespace":"P","Metrics":[{"Name":"Deployments","Unit":"Count"},{"Name":"LeadTimeForChanges","Unit":"Seconds"}],"Dimensions":[["Pipeline"]]}]}}
`)
	got, err := Sum(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"Deployments{Pipeline=api}": 2, "Deployments{Pipeline=api}#n": 2, "LeadTimeForChanges{Pipeline=api}": 60, "LeadTimeForChanges{Pipeline=api}#n": 1}
	if len(got) != len(want) {
		t.Fatalf("Sum = %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Sum[%q] = %v; want %v", k, got[k], v)
		}
	}
	if vs, err := Values(in, "Deployments{Pipeline=api}"); err != nil || len(vs) != 2 || vs[0] != 1 {
		t.Errorf("Values(Deployments) = %v, %v; want [1 1]", vs, err)
	}
	if _, err := Sum([]byte(`{"X":"y","_aws":{"CloudWatchMetrics":[{"Metrics":[{"Name":"Gone"}],"Dimensions":[["X"]]}]}}`)); err == nil {
		t.Error("Sum(metric without a value) = nil error; want an error")
	}
}
