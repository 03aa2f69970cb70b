package standin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
)

// FuzzServeHTTP throws arbitrary requests at every route: the stand-in
// must answer (any status) and never panic.
func FuzzServeHTTP(f *testing.F) {
	s, err := New(Scenario{
		Alarms:  []Alarm{{Name: "a"}},
		Metrics: metricScenario().Metrics,
		Jobs:    []Job{{ID: "j"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ method, path, target, ctype, body string }{
		{"POST", "/", "CodePipeline_20150709.PutJobSuccessResult", "application/x-amz-json-1.1", `{"jobId":"j","continuationToken":"t"}`},
		{"POST", "/", "CodePipeline_20150709.PutJobFailureResult", "application/x-amz-json-1.1", `{"jobId":"j","failureDetails":{"type":"JobFailed","message":"m"}}`},
		{"POST", "/", "GraniteServiceVersion20100801.GetMetricData", "application/x-amz-json-1.0", `{"StartTime":1,"EndTime":1e12,"MetricDataQueries":[{"Id":"e","Expression":"1/0"}]}`},
		{"POST", "/", "AmazonSSM.GetParameter", "application/x-amz-json-1.1", `{"Name":[1,2]}`},
		{"POST", "/", "AWSEvents.PutEvents", "application/x-amz-json-1.1", `{"Entries":"x"}`},
		{"POST", "/", "", "application/x-www-form-urlencoded", "Action=DescribeAlarms&AlarmNames.member.1=a&MaxRecords=0"},
		{"POST", "/", "", "application/x-www-form-urlencoded", "Action=Publish&MessageAttributes.entry.1.Name=x&MessageAttributes.entry.1.Value.StringValue=y&TopicArn=t&Message=m"},
		{"POST", "/", "", "application/x-www-form-urlencoded", "Action=DescribeInstances&Filter.1.Name=tag:x&Filter.1.Value.1=y&InstanceId.a.1=z"},
		{"POST", cborPrefix + "DescribeAlarms", "", "application/cbor", string(cbor.Encode(cbor.Map{"MaxRecords": cbor.Uint(1 << 40)}))},
		{"POST", cborPrefix + "GetMetricData", "", "application/cbor", "\xbf\x61a\x9f\xff"},
		{"PUT", "/2015-03-31/functions/f/aliases/live", "", "application/json", `{"RoutingConfig":{"AdditionalVersionWeights":{"2":"x"}}}`},
		{"POST", "/findings/list", "", "application/json", `{"maxResults":1e300,"nextToken":"standin--1"}`},
		{"GET", "/bucket/key%zz", "", "", ""},
	}
	for _, sd := range seeds {
		f.Add(sd.method, sd.path, sd.target, sd.ctype, []byte(sd.body))
	}
	f.Fuzz(func(t *testing.T, method, path, target, ctype string, body []byte) {
		if !validMethod(method) {
			method = http.MethodPost
		}
		u := &url.URL{Scheme: "http", Host: "standin", Path: path}
		req := httptest.NewRequest(method, "http://standin/", strings.NewReader(string(body)))
		req.URL = u
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		req.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code < 200 || w.Code > 599 {
			t.Errorf("%s %s answered status %d", method, path, w.Code)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead, http.MethodDelete:
		return true
	}
	return false
}

// FuzzDecodeForm: any form decodes to a tree whose accessors never panic.
func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{
		"AlarmNames.member.1=a&AlarmNames.member.2=b",
		"a.1=x&a.b=y&a.1.c=z",
		"Filter.1.Value.1=x&Filter.1.Value.99999999999999999999=y",
		"..=.&.member.=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		m := decodeForm(form)
		for k := range m {
			_ = str(m, k)
			_ = list(m, k)
			_ = strList(m, k)
			_, _ = intField(m, k)
			_, _ = timeField(m, k)
		}
	})
}

// FuzzDecodeCBOR: any bytes either decode or fail, and a decoded tree
// re-encodes without panicking.
func FuzzDecodeCBOR(f *testing.F) {
	f.Add(cbor.Encode(cbor.Map{"StartTime": &cbor.Tag{ID: 1, Value: cbor.Float64(1.5)}, "L": cbor.List{cbor.NegInt(3)}}))
	f.Add([]byte{0xa1, 0x61, 0x61, 0xc1, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}) // tag 1 NaN
	f.Add([]byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeCBOR(b)
		if err != nil {
			return
		}
		_ = encodeCBOR(m)
		_ = encodeJSON(m)
	})
}
