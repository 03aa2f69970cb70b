package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/telemetry"
)

// The records, in the suite's state table (pkg/state: pk, sk, expiresAt):
//
//	"delivery#deploy#"<pipeline> / <execution id>   one execution of a pipeline:
//	    completedAt, sourceCreatedAt (epoch ms, N), isRollback (BOOL) once its
//	    production stage deployed; failedAt (epoch ms), failedKind once a
//	    failure is attributed to it; restoredAt, restoredBy once restored.
//	"delivery#run#"<pipeline>    / <execution id>   the execution's first terminal outcome
//	"delivery#build#"<build ARN> / "outcome"        a build's terminal outcome
//	"incident#delivery#"<alarm ARN> / "incident"    an incident (state.Store's
//	    OpenIncident/CloseIncident, attrs pipeline)
//
// Every write that counts something is conditional on the fact not being
// there yet, so a duplicate event writes nothing and emits nothing, and
// a pair of facts that may arrive in either order (a deployment and the
// verification that failed it) is counted by whichever write completes
// the pair: DynamoDB applies conditional writes to one item one at a time
// (DynamoDB Developer Guide, "Condition expressions" / "Conditional
// writes").

// Recorder records delivery facts and emits the metrics once per fact.
type Recorder struct {
	api     state.API
	table   string
	store   *state.Store
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// Window is the change-failure window.
	Window time.Duration
	// TTL is how long records are kept (default 90 days).
	TTL time.Duration
	Now func() time.Time
}

// NewRecorder returns a recorder on table through api; nil metrics and
// logger discard, window 0 means 24h.
func NewRecorder(api state.API, table string, m *telemetry.Metrics, log *slog.Logger, window time.Duration) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if window <= 0 {
		window = 24 * time.Hour
	}
	r := &Recorder{api: api, table: table, store: state.New(api, table), Metrics: m, Log: log, Window: window, TTL: 90 * 24 * time.Hour, Now: time.Now}
	r.store.Now = func() time.Time { return r.Now() }
	return r
}

func ms(t time.Time) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func readMS(item map[string]ddbtypes.AttributeValue, name string) time.Time {
	n, ok := item[name].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return time.Time{}
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func key(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{state.AttrPK: str(pk), state.AttrSK: str(sk)}
}

func (r *Recorder) expires() ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(r.Now().Add(r.TTL).Unix()+1, 10)}
}

func deployPK(pipeline string) string { return "delivery#deploy#" + pipeline }

// record is a deployment item as read back.
type record struct {
	Deployment
	Deployed   bool
	FailedAt   time.Time
	FailedKind FailureKind
	RestoredAt time.Time
}

func recordOf(pipeline string, item map[string]ddbtypes.AttributeValue) record {
	rec := record{Deployment: Deployment{Pipeline: pipeline, ExecutionID: state.ReadString(item, state.AttrSK)}}
	rec.Completed = readMS(item, "completedAt")
	rec.Deployed = !rec.Completed.IsZero()
	rec.SourceCreated = readMS(item, "sourceCreatedAt")
	if b, ok := item["isRollback"].(*ddbtypes.AttributeValueMemberBOOL); ok {
		rec.Rollback = b.Value
	}
	rec.FailedAt = readMS(item, "failedAt")
	rec.FailedKind = FailureKind(state.ReadString(item, "failedKind"))
	rec.RestoredAt = readMS(item, "restoredAt")
	return rec
}

// counted reports whether rec is a production deployment whose failure
// counts: deployed, not a rollback, failed within the window after.
func (r *Recorder) counted(rec record) bool {
	return rec.Deployed && !rec.Rollback && !rec.FailedAt.IsZero() &&
		!rec.FailedAt.Before(rec.Completed) && rec.FailedAt.Sub(rec.Completed) <= r.Window
}

func (r *Recorder) emit(dims map[string]string, v ...telemetry.Value) { r.Metrics.Emit(dims, v...) }

// Ignore logs why an event is left out of the delivery metrics and counts
// it (DeliveryEventsIgnored{Reason}).
func (r *Recorder) Ignore(ctx context.Context, reason, why string, attrs ...any) {
	r.Log.InfoContext(ctx, "delivery metrics: event ignored: "+why, append([]any{"reason", reason}, attrs...)...)
	r.emit(map[string]string{DimReason: reason}, count(MetricEventsIgnored))
}

// RecordDeployment records that d's production stage deployed. The first
// record of an execution emits Deployments and LeadTimeForChanges (not
// for a rollback), and ChangeFailures when a failure of it arrived first;
// a duplicate emits nothing.
func (r *Recorder) RecordDeployment(ctx context.Context, d Deployment) error {
	if d.Pipeline == "" || d.ExecutionID == "" || d.Completed.IsZero() {
		return fmt.Errorf("record deployment: pipeline %q, execution %q and completion time are required", d.Pipeline, d.ExecutionID)
	}
	log := r.Log.With("pipeline", d.Pipeline, "executionId", d.ExecutionID)
	expr := "SET completedAt = :c, isRollback = :r, #exp = :exp"
	vals := map[string]ddbtypes.AttributeValue{":c": ms(d.Completed), ":r": &ddbtypes.AttributeValueMemberBOOL{Value: d.Rollback}, ":exp": r.expires()}
	if !d.SourceCreated.IsZero() {
		expr += ", sourceCreatedAt = :s"
		vals[":s"] = ms(d.SourceCreated)
	}
	out, err := r.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.table),
		Key:                       key(deployPK(d.Pipeline), d.ExecutionID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_not_exists(completedAt)"),
		ExpressionAttributeNames:  map[string]string{"#exp": state.AttrExpiresAt},
		ExpressionAttributeValues: vals,
		ReturnValues:              ddbtypes.ReturnValueAllNew,
	})
	switch {
	case state.IsConditionFailed(err):
		log.InfoContext(ctx, "delivery metrics: deployment already recorded (duplicate or late event); not counted again")
	case err != nil:
		return fmt.Errorf("record deployment %s of %s in table %s: %w", d.ExecutionID, d.Pipeline, r.table, err)
	default:
		rec := recordOf(d.Pipeline, out.Attributes)
		dims := map[string]string{DimPipeline: d.Pipeline}
		if !d.Rollback {
			vals := []telemetry.Value{count(MetricDeployments)}
			if lt, ok := LeadTime(d); ok {
				vals = append(vals, seconds(MetricLeadTime, lt))
			}
			r.emit(dims, vals...)
		}
		if r.counted(rec) {
			log.InfoContext(ctx, "delivery metrics: a failure recorded earlier counts against this deployment", "failedKind", rec.FailedKind)
			r.emit(dims, count(MetricChangeFailures))
		}
		log.InfoContext(ctx, "delivery metrics: production deployment recorded", "rollback", d.Rollback, "completedAt", d.Completed)
	}
	return r.settleRestores(ctx, d.Pipeline)
}

// RecordFailure attributes f to the production deployment that caused it
// (Attribute) and counts that deployment failed, once. A failure that
// names its execution is recorded on it even before the deployment is
// (then RecordDeployment counts it); one that does not is attributed
// among the deployments recorded so far.
func (r *Recorder) RecordFailure(ctx context.Context, f Failure) error {
	if f.Pipeline == "" || f.At.IsZero() {
		return fmt.Errorf("record failure: pipeline %q and time are required", f.Pipeline)
	}
	log := r.Log.With("pipeline", f.Pipeline, "failedKind", f.Kind, "executionId", f.ExecutionID)
	exec := f.ExecutionID
	cond := "attribute_not_exists(failedAt) AND (attribute_not_exists(completedAt) OR (completedAt <= :at AND completedAt >= :from))"
	if exec == "" {
		recs, err := r.deployments(ctx, f.Pipeline)
		if err != nil {
			return err
		}
		deps := deployed(recs)
		i := Attribute(deps, f, r.Window)
		if i < 0 {
			r.Ignore(ctx, ReasonUnattributed, "no production deployment of the pipeline completed within the change-failure window before this failure", "pipeline", f.Pipeline, "failedKind", f.Kind, "at", f.At)
			return nil
		}
		exec = deps[i].ExecutionID
		cond = "attribute_exists(completedAt) AND attribute_not_exists(failedAt)"
	}
	vals := map[string]ddbtypes.AttributeValue{":at": ms(f.At), ":k": str(string(f.Kind)), ":exp": r.expires()}
	if f.ExecutionID != "" {
		// DynamoDB refuses a value no expression uses.
		vals[":from"] = ms(f.At.Add(-r.Window))
	}
	out, err := r.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.table),
		Key:                       key(deployPK(f.Pipeline), exec),
		UpdateExpression:          aws.String("SET failedAt = :at, failedKind = :k, #exp = if_not_exists(#exp, :exp)"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#exp": state.AttrExpiresAt},
		ExpressionAttributeValues: vals,
		ReturnValues:              ddbtypes.ReturnValueAllNew,
	})
	switch {
	case state.IsConditionFailed(err):
		log.InfoContext(ctx, "delivery metrics: deployment already counted failed, or the failure is outside the change-failure window; not counted again", "attributedTo", exec)
	case err != nil:
		return fmt.Errorf("record %s failure of %s in table %s: %w", f.Kind, f.Pipeline, r.table, err)
	default:
		rec := recordOf(f.Pipeline, out.Attributes)
		if r.counted(rec) {
			r.emit(map[string]string{DimPipeline: f.Pipeline}, count(MetricChangeFailures))
			log.InfoContext(ctx, "delivery metrics: change failure attributed", "attributedTo", exec, "deployedAt", rec.Completed)
		} else {
			log.InfoContext(ctx, "delivery metrics: failure recorded before its production deployment; counted when the deployment is recorded", "attributedTo", exec)
		}
	}
	return r.settleRestores(ctx, f.Pipeline)
}

// deployments reads every deployment record of pipeline.
func (r *Recorder) deployments(ctx context.Context, pipeline string) ([]record, error) {
	var recs []record
	p := dynamodb.NewQueryPaginator(r.api, &dynamodb.QueryInput{
		TableName:                 aws.String(r.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": state.AttrPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(deployPK(pipeline))},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the deployments of %s in table %s: %w", pipeline, r.table, err)
		}
		for _, it := range page.Items {
			recs = append(recs, recordOf(pipeline, it))
		}
	}
	return recs, nil
}

func deployed(recs []record) []Deployment {
	var out []Deployment
	for _, rec := range recs {
		if rec.Deployed {
			out = append(out, rec.Deployment)
		}
	}
	return out
}

// settleRestores finds the pipeline's counted, unrestored failures not
// caused by an incident (an incident's restore is its own closing) that
// a later deployment has fixed (RedeployRestore), and records and emits
// each restore once.
func (r *Recorder) settleRestores(ctx context.Context, pipeline string) error {
	recs, err := r.deployments(ctx, pipeline)
	if err != nil {
		return err
	}
	deps := deployed(recs)
	for _, rec := range recs {
		if !r.counted(rec) || rec.FailedKind == IncidentStarted || !rec.RestoredAt.IsZero() {
			continue
		}
		ttr, j := RedeployRestore(deps, rec.Deployment, rec.FailedAt)
		if j < 0 {
			continue
		}
		_, err := r.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(r.table),
			Key:                       key(deployPK(pipeline), rec.ExecutionID),
			UpdateExpression:          aws.String("SET restoredAt = :t, restoredBy = :by"),
			ConditionExpression:       aws.String("attribute_not_exists(restoredAt)"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": ms(deps[j].Completed), ":by": str(deps[j].ExecutionID)},
		})
		if state.IsConditionFailed(err) {
			continue // another invocation recorded it
		}
		if err != nil {
			return fmt.Errorf("record the restore of %s of %s in table %s: %w", rec.ExecutionID, pipeline, r.table, err)
		}
		r.emit(map[string]string{DimPipeline: pipeline}, seconds(MetricTimeToRestore, ttr))
		r.Log.InfoContext(ctx, "delivery metrics: failed deployment restored by a later one", "pipeline", pipeline, "executionId", rec.ExecutionID, "restoredBy", deps[j].ExecutionID, "timeToRestore", ttr.String())
	}
	return nil
}

// StartIncident opens an incident of pipeline's service (id: the alarm
// ARN) at start, and attributes it as a failure (RecordFailure); an
// incident already open is not started again.
func (r *Recorder) StartIncident(ctx context.Context, id, pipeline string, start time.Time) error {
	_, opened, err := r.store.OpenIncident(ctx, "delivery#"+id, start, map[string]string{"pipeline": pipeline})
	if err != nil {
		return fmt.Errorf("delivery metrics: %w", err)
	}
	if !opened {
		r.Log.InfoContext(ctx, "delivery metrics: incident already open (duplicate or repeated ALARM); not counted again", "incident", id, "pipeline", pipeline)
		return nil
	}
	return r.RecordFailure(ctx, Failure{Kind: IncidentStarted, Pipeline: pipeline, At: start})
}

// EndIncident closes the open incident id at end and emits its time to
// restore service, once; with none open (a duplicate OK, or an OK before
// its ALARM) it is ignored, logged and counted.
func (r *Recorder) EndIncident(ctx context.Context, id string, end time.Time) error {
	in, closed, err := r.store.CloseIncident(ctx, "delivery#"+id, end)
	if err != nil {
		return fmt.Errorf("delivery metrics: %w", err)
	}
	if !closed {
		r.Ignore(ctx, ReasonNoIncident, "no open incident for this alarm (a duplicate OK, or an OK that arrived before its ALARM)", "incident", id)
		return nil
	}
	pipeline := in.Attrs["pipeline"]
	ttr, ok := IncidentRestore(Incident{Pipeline: pipeline, Start: in.OpenedAt, End: end})
	if !ok {
		r.Ignore(ctx, ReasonMalformed, "incident ends before it starts", "incident", id, "start", in.OpenedAt, "end", end)
		return nil
	}
	r.emit(map[string]string{DimPipeline: pipeline}, seconds(MetricTimeToRestore, ttr))
	r.Log.InfoContext(ctx, "delivery metrics: incident restored", "incident", id, "pipeline", pipeline, "timeToRestore", ttr.String())
	return nil
}

// RecordBuild counts a CodeBuild build's terminal outcome once (key: the
// build ARN).
func (r *Recorder) RecordBuild(ctx context.Context, buildARN, project, status string) error {
	o := BuildOutcome(status)
	if o == Excluded {
		r.Log.DebugContext(ctx, "delivery metrics: build status not counted", "build", buildARN, "status", status)
		return nil
	}
	first, err := r.once(ctx, "delivery#build#"+buildARN, "outcome", string(o))
	if err != nil || !first {
		return err
	}
	r.emit(map[string]string{DimProject: project, DimOutcome: string(o)}, count(MetricBuilds))
	return nil
}

// RecordPipelineRun counts a pipeline execution's first terminal outcome
// once (key: pipeline and execution id). A failed execution retried to
// success stays counted as failed: it did fail.
func (r *Recorder) RecordPipelineRun(ctx context.Context, pipeline, execution, status string) error {
	o := PipelineOutcome(status)
	if o == Excluded {
		r.Log.DebugContext(ctx, "delivery metrics: pipeline status not counted", "pipeline", pipeline, "executionId", execution, "status", status)
		return nil
	}
	first, err := r.once(ctx, "delivery#run#"+pipeline, execution, string(o))
	if err != nil || !first {
		return err
	}
	r.emit(map[string]string{DimPipeline: pipeline, DimOutcome: string(o)}, count(MetricPipelineExecutions))
	return nil
}

// once puts pk/sk unless it exists: true for the first writer.
func (r *Recorder) once(ctx context.Context, pk, sk, outcome string) (bool, error) {
	item := key(pk, sk)
	item["outcome"] = str(outcome)
	item[state.AttrExpiresAt] = r.expires()
	_, err := r.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(r.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": state.AttrPK},
	})
	if state.IsConditionFailed(err) {
		r.Log.InfoContext(ctx, "delivery metrics: outcome already counted (duplicate event)", "pk", pk, "sk", sk)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record outcome %s/%s in table %s: %w", pk, sk, r.table, err)
	}
	return true, nil
}

// Link remembers which pipeline execution made an external deployment
// (a CodeDeploy deployment id), so a later rollback of it is attributed.
func (r *Recorder) Link(ctx context.Context, externalID, pipeline, execution string) error {
	item := key("delivery#external#"+externalID, "link")
	item["pipeline"], item["executionId"], item[state.AttrExpiresAt] = str(pipeline), str(execution), r.expires()
	if _, err := r.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.table), Item: item}); err != nil {
		return fmt.Errorf("link %s to %s/%s in table %s: %w", externalID, pipeline, execution, r.table, err)
	}
	return nil
}

// Linked returns the pipeline execution Link recorded for externalID.
func (r *Recorder) Linked(ctx context.Context, externalID string) (pipeline, execution string, ok bool, err error) {
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), Key: key("delivery#external#"+externalID, "link"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", "", false, fmt.Errorf("read link of %s in table %s: %w", externalID, r.table, err)
	}
	if out.Item == nil {
		return "", "", false, nil
	}
	return state.ReadString(out.Item, "pipeline"), state.ReadString(out.Item, "executionId"), true, nil
}
