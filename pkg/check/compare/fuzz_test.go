package compare

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/postdeploy/postdeploy/pkg/check"
	"github.com/postdeploy/postdeploy/pkg/verdict"
)

// decodeSeries turns fuzz bytes into two series. The first byte picks the
// encoding (even: each following byte is a small integer, so ties are
// common; odd: each 8 bytes are a float64's bits, so NaN, ±Inf, huge and
// subnormal values turn up) and the second where the baseline ends.
func decodeSeries(data []byte) (baseline, canary []float64) {
	if len(data) < 2 {
		return nil, nil
	}
	mode, cut, data := data[0], int(data[1]), data[2:]
	var xs []float64
	if mode%2 == 0 {
		for _, b := range data {
			xs = append(xs, float64(b)-float64(mode%7)*10)
		}
	} else {
		for len(data) >= 8 {
			xs = append(xs, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
	}
	cut = min(cut, len(xs))
	return xs[:cut], xs[cut:]
}

func fuzzParams(dir uint8, tolPermille uint16, confPermille uint16, minSamples uint8) params {
	return params{
		direction:  []string{DirectionIncrease, DirectionDecrease, DirectionEither}[dir%3],
		tolerance:  float64(tolPermille) / 1000,
		confidence: float64(1+confPermille%998) / 1000,
		minSamples: int(minSamples % 40),
	}
}

// FuzzAnalyze feeds arbitrary series and parameters to the analysis: it
// must never panic or return Error, every number it reports must be
// finite, the counts must add up, the messages must hold no NaN or Inf,
// and a series compared with itself must never fail.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 3, 4, 5, 6}, uint8(0), uint16(200), uint16(949), uint8(3))
	f.Add([]byte{0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(0), uint16(0), uint16(949), uint8(10))
	nanBits := make([]byte, 2, 2+8*4)
	nanBits[0], nanBits[1] = 1, 2
	for _, x := range []float64{math.NaN(), math.Inf(1), 1e-310, 1e300} {
		nanBits = binary.LittleEndian.AppendUint64(nanBits, math.Float64bits(x))
	}
	f.Add(nanBits, uint8(2), uint16(100), uint16(989), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, dir uint8, tolPermille uint16, confPermille uint16, minSamples uint8) {
		b, c := decodeSeries(data)
		p := fuzzParams(dir, tolPermille, confPermille, minSamples)
		cc, errs := compile(check.Item{Index: 0, Check: validCheck()})
		if len(errs) > 0 {
			t.Fatalf("compile: %v", errs)
		}
		cc.params = p
		for i, pair := range [][2][]float64{{b, c}, {b, b}, {c, c}} {
			o := analyze(pair[0], pair[1], p)
			switch o.Verdict {
			case verdict.Succeeded, verdict.Failed, verdict.Inconclusive:
			default:
				t.Fatalf("analyze(%v, %v, %+v).Verdict = %v; want Succeeded, Failed or Inconclusive", pair[0], pair[1], p, o.Verdict)
			}
			assertFinite(t, o)
			for _, s := range []seriesStats{o.Baseline, o.Canary} {
				if s.Points != s.Dropped+s.Outliers+s.N && o.Reason != reasonTooFew {
					t.Fatalf("analyze: counts %+v do not add up", s)
				}
			}
			if o.P < 0 || o.P > 1 {
				t.Fatalf("analyze: P = %v; want within [0, 1]", o.P)
			}
			if identical := i > 0; identical && o.Verdict == verdict.Failed {
				t.Fatalf("analyze(x, x, %+v) = Failed (%+v); identical series must never fail", p, o)
			}
			assertResultFinite(t, cc.judge(o, plan{}))
		}
	})
}

// FuzzSampleResponse feeds arbitrary GetMetricData answers — ids that
// match no query, timestamps inside and outside the windows, values of
// any bits, status codes, mismatched lengths, more pages — through a
// whole sample: it must return exactly one result with a verdict, and no
// NaN or Inf anywhere.
func FuzzSampleResponse(f *testing.F) {
	f.Add([]byte{0, 1, 10, 0, 0, 0, 0, 0, 0, 240, 63})
	f.Add([]byte{1, 0, 2, 3, 200, 0, 0, 0, 0, 0, 0, 248, 127, 5})
	f.Add([]byte{2, 2, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		api := &cannedAPI{data: data}
		s, errs := New(Options{API: api, Now: func() time.Time { return testNow }}, []check.Item{{Index: 0, Check: validCheck()}})
		if len(errs) > 0 {
			t.Fatalf("New: %v", errs)
		}
		rs := s.Sample(context.Background(), check.Sample{BakeStart: testBakeStart, Now: testNow})
		if len(rs) != 1 || rs[0].Verdict < verdict.Succeeded || rs[0].Verdict > verdict.Error {
			t.Fatalf("Sample = %+v; want one result with a verdict", rs)
		}
		assertResultFinite(t, rs[0])
	})
}

// cannedAPI answers GetMetricData with results decoded from bytes, one
// page per call until the bytes run out.
type cannedAPI struct {
	data []byte
	pos  int
}

var _ API = (*cannedAPI)(nil)

func (c *cannedAPI) next() (byte, bool) {
	if c.pos >= len(c.data) {
		return 0, false
	}
	c.pos++
	return c.data[c.pos-1], true
}

func (c *cannedAPI) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out := &cloudwatch.GetMetricDataOutput{}
	ids := []string{"b0", "c0", "x", ""}
	statuses := []types.StatusCode{types.StatusCodeComplete, types.StatusCodePartialData, types.StatusCodeInternalError, types.StatusCodeForbidden, "Weird"}
	n, _ := c.next()
	for range n % 4 {
		sel, ok := c.next()
		if !ok {
			break
		}
		r := types.MetricDataResult{Id: aws.String(ids[sel%4]), StatusCode: statuses[(sel/4)%5]}
		if sel/4 < 5 { // usually Complete or PartialData
			r.StatusCode = statuses[(sel/4)%2]
		}
		count, _ := c.next()
		for range count % 64 {
			off, ok := c.next()
			if !ok {
				break
			}
			// Timestamps from 2h before the window to after it, on and off
			// the minute.
			r.Timestamps = append(r.Timestamps, aws.ToTime(in.StartTime).Add(time.Duration(int(off)-120)*time.Minute+time.Duration(off%3)*20*time.Second))
			var bits [8]byte
			for i := range bits {
				bits[i], _ = c.next()
			}
			r.Values = append(r.Values, math.Float64frombits(binary.LittleEndian.Uint64(bits[:])))
		}
		if sel%7 == 0 && len(r.Values) > 0 {
			r.Values = r.Values[1:]
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	if c.pos < len(c.data) {
		out.NextToken = aws.String("more")
	}
	return out, nil
}
