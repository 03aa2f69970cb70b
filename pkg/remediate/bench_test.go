package remediate_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/postdeploy/postdeploy/pkg/remediate"
	"github.com/postdeploy/postdeploy/pkg/state"
)

// countingAPI counts the state table calls the engine makes.
type countingAPI struct {
	state.API
	calls atomic.Int64
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.calls.Add(1)
	return c.API.PutItem(ctx, in, o...)
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.calls.Add(1)
	return c.API.GetItem(ctx, in, o...)
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.calls.Add(1)
	return c.API.UpdateItem(ctx, in, o...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.calls.Add(1)
	return c.API.Query(ctx, in, o...)
}

func (c *countingAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.calls.Add(1)
	return c.API.DeleteItem(ctx, in, o...)
}

func benchRig(b *testing.B) (*rig, *countingAPI) {
	r := newRig(b, shippedPolicy)
	api, table := newTable(b)
	counting := &countingAPI{API: api}
	r.store = state.New(counting, table)
	r.store.Now = r.clk.Now
	r.e.Store = r.store
	return r, counting
}

// BenchmarkHandleDuplicate is the cost of a redelivery: one conditional
// put, refused.
func BenchmarkHandleDuplicate(b *testing.B) {
	r, counting := benchRig(b)
	a := ecsAlarm("api", "ALARM", start)
	r.cw.defineIfAbsent(a) // CloudWatch has the alarm the delivery names
	if out, err := r.e.Handle(context.Background(), a); err != nil || out.Decision != remediate.Fixed {
		b.Fatalf("first Handle = %v (%s), %v; want fixed", out.Decision, out.Reason, err)
	}
	counting.calls.Store(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := r.e.Handle(context.Background(), a); err != nil || out.Decision != remediate.Duplicate {
			b.Fatalf("Handle = %v, %v; want duplicate", out.Decision, err)
		}
	}
	b.ReportMetric(float64(counting.calls.Load())/float64(b.N), "ddb-calls/op")
}

// BenchmarkHandleAct is the cost of a first delivery that acts and
// verifies at once (the service settles and the alarm is already OK).
func BenchmarkHandleAct(b *testing.B) {
	r, counting := benchRig(b)
	counting.calls.Store(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A new state change each time, after the cooldown.
		r.clk.Add(time.Hour)
		a := ecsAlarm("api", "ALARM", start.Add(time.Duration(i+1)*time.Hour))
		r.cw.set("ALARM")
		r.cw.defineIfAbsent(a) // CloudWatch has the alarm the delivery names
		if out, err := r.e.Handle(context.Background(), a); err != nil || out.Decision != remediate.Fixed {
			b.Fatalf("Handle = %v (%s), %v; want fixed", out.Decision, out.Reason, err)
		}
	}
	b.ReportMetric(float64(counting.calls.Load())/float64(b.N), "ddb-calls/op")
	b.ReportMetric(float64(r.ecs.updateCount())/float64(b.N), "ecs-calls/op")
}
