package vuln

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/state"
)

// Store keeps the vulnerability management log in the state table. Every
// change that decides something (open a ticket, close it, resolve the
// finding) is a conditional write, so of many concurrent or duplicate
// deliveries exactly one wins and makes the one mutating call.
//
// All records share the partition "vuln", so the daily and weekly runs
// read the whole log with one paginated Query, in key order; DynamoDB
// serves up to 3,000 reads and 1,000 writes a second per partition
// ("Best practices for designing and using partition keys effectively",
// DynamoDB Developer Guide), far above a few thousand findings an hour.
type Store struct {
	API   state.API
	Table string
	// Retention is how long a resolved record is kept (default 400 days:
	// a year of weekly reports and more).
	Retention time.Duration
}

// NewStore returns a Store on table.
func NewStore(api state.API, table string) *Store {
	return &Store{API: api, Table: table, Retention: 400 * 24 * time.Hour}
}

func key(k string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{state.AttrPK: s(pkVuln), state.AttrSK: s(skPref + k)}
}

// update runs one conditional UpdateItem; false when the condition
// failed.
func (st *Store) update(ctx context.Context, k, expr, cond string, names map[string]string, vals map[string]ddbtypes.AttributeValue, rv ddbtypes.ReturnValue) (map[string]ddbtypes.AttributeValue, bool, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(st.Table),
		Key:                       key(k),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ReturnValues:              rv,
	}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	if len(in.ExpressionAttributeValues) == 0 {
		in.ExpressionAttributeValues = nil
	}
	out, err := st.API.UpdateItem(ctx, in)
	if state.IsConditionFailed(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("update vulnerability record %s in table %s: %w", k, st.Table, err)
	}
	return out.Attributes, true, nil
}

// Observe writes what a delivery of the finding says — title, severity,
// priority, score, due date, last seen — keeping the first-seen time of
// an existing record, and reopens a resolved one. It returns the record
// as it was (existed false for a new one).
func (st *Store) Observe(ctx context.Context, r Record) (Record, bool, error) {
	names := map[string]string{
		"#src": "source", "#fid": "findingId", "#title": "title", "#vuln": "vuln", "#res": "resource", "#rid": "resourceId", "#sev": "severity",
		"#p": "priority", "#score": "score", "#last": "lastSeen", "#due": "due", "#rem": "remediation", "#status": aStatus,
		"#first": "firstSeen", "#resolvedAt": "resolvedAt", "#resolution": "resolution", "#exp": state.AttrExpiresAt,
	}
	vals := map[string]ddbtypes.AttributeValue{
		":src": s(r.Source), ":fid": s(r.FindingID), ":title": s(r.Title), ":vuln": s(r.Vuln), ":res": s(r.Resource), ":rid": s(r.ResourceID),
		":sev": s(r.Severity), ":p": s(r.Priority.String()), ":score": n(r.Score), ":last": ts(r.LastSeen), ":due": ts(r.Due),
		":rem": s(r.Remediation), ":open": s(StatusOpen), ":first": ts(r.FirstSeen),
	}
	old, _, err := st.update(ctx, r.Key,
		"SET #src = :src, #fid = :fid, #title = :title, #vuln = :vuln, #res = :res, #rid = :rid, #sev = :sev, #p = :p, #score = :score, #last = :last, #due = :due, #rem = :rem, #status = :open, #first = if_not_exists(#first, :first) REMOVE #resolvedAt, #resolution, #exp",
		"", names, vals, ddbtypes.ReturnValueAllOld)
	if err != nil {
		return Record{}, false, err
	}
	if len(old) == 0 {
		return Record{}, false, nil
	}
	return fromItem(old), true, nil
}

// ClaimTicket takes the right to open the finding's ticket: true for
// exactly one caller while no ticket exists and none is being opened (an
// attempt older than stale, or one that failed, may be taken over).
func (st *Store) ClaimTicket(ctx context.Context, k string, now time.Time, stale time.Duration) (bool, error) {
	_, ok, err := st.update(ctx, k,
		"SET #ts = :opening, #tat = :now",
		"attribute_exists(#pk) AND attribute_not_exists(#tid) AND #status = :open AND (attribute_not_exists(#ts) OR #ts = :failed OR #tat < :stale)",
		map[string]string{"#ts": "ticketState", "#tat": "ticketClaimedAt", "#pk": state.AttrPK, "#tid": "ticketId", "#status": aStatus},
		map[string]ddbtypes.AttributeValue{":opening": s(TicketOpening), ":now": ts(now), ":failed": s(TicketFailed), ":stale": ts(now.Add(-stale)), ":open": s(StatusOpen)},
		ddbtypes.ReturnValueNone)
	return ok, err
}

// SetTicket records the opened ticket.
func (st *Store) SetTicket(ctx context.Context, r Record, id string) error {
	_, _, err := st.update(ctx, r.Key,
		"SET #tid = :id, #ts = :state, #tp = :p, #tsc = :score REMOVE #terr",
		"",
		map[string]string{"#tid": "ticketId", "#ts": "ticketState", "#tp": "ticketPriority", "#tsc": "ticketScore", "#terr": "ticketError"},
		map[string]ddbtypes.AttributeValue{":id": s(id), ":state": s(TicketOpen), ":p": s(r.Priority.String()), ":score": n(r.Score)},
		ddbtypes.ReturnValueNone)
	return err
}

// TicketFailed records that opening the ticket failed, for the daily run
// to try again.
func (st *Store) TicketFailed(ctx context.Context, k string, cause error) error {
	_, _, err := st.update(ctx, k,
		"SET #ts = :failed, #terr = :err",
		"#ts = :opening",
		map[string]string{"#ts": "ticketState", "#terr": "ticketError"},
		map[string]ddbtypes.AttributeValue{":failed": s(TicketFailed), ":err": s(clip(cause.Error(), 1000)), ":opening": s(TicketOpening)},
		ddbtypes.ReturnValueNone)
	return err
}

// ClaimTicketUpdate records that the ticket now shows priority p and
// score: true for the one caller that changed them, so one delivery
// updates the ticket.
func (st *Store) ClaimTicketUpdate(ctx context.Context, r Record) (bool, error) {
	_, ok, err := st.update(ctx, r.Key,
		"SET #tp = :p, #tsc = :score",
		"attribute_exists(#tid) AND #ts = :open AND (#tp <> :p OR #tsc <> :score)",
		map[string]string{"#tid": "ticketId", "#ts": "ticketState", "#tp": "ticketPriority", "#tsc": "ticketScore"},
		map[string]ddbtypes.AttributeValue{":p": s(r.Priority.String()), ":score": n(r.Score), ":open": s(TicketOpen)},
		ddbtypes.ReturnValueNone)
	return ok, err
}

// Resolve marks the open finding k resolved at `at`: the record as it is
// now and true for the one caller that resolved it.
func (st *Store) Resolve(ctx context.Context, k string, at time.Time, why string) (Record, bool, error) {
	out, ok, err := st.update(ctx, k,
		"SET #status = :resolved, #at = :at, #why = :why, #exp = :exp",
		"#status = :open",
		map[string]string{"#status": aStatus, "#at": "resolvedAt", "#why": "resolution", "#exp": state.AttrExpiresAt},
		map[string]ddbtypes.AttributeValue{":resolved": s(StatusResolved), ":at": ts(at), ":why": s(clip(why, 500)), ":open": s(StatusOpen),
			":exp": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(at.Add(st.Retention).Unix())}},
		ddbtypes.ReturnValueAllNew)
	if err != nil || !ok {
		return Record{}, false, err
	}
	return fromItem(out), true, nil
}

// ClaimTicketClose marks the ticket closed: true for the one caller that
// closes it.
func (st *Store) ClaimTicketClose(ctx context.Context, k string) (bool, error) {
	_, ok, err := st.update(ctx, k,
		"SET #ts = :closed",
		"attribute_exists(#tid) AND #ts = :open",
		map[string]string{"#tid": "ticketId", "#ts": "ticketState"},
		map[string]ddbtypes.AttributeValue{":closed": s(TicketClosed), ":open": s(TicketOpen)},
		ddbtypes.ReturnValueNone)
	return ok, err
}

// MarkBreached records the first SLA breach alert's time.
func (st *Store) MarkBreached(ctx context.Context, k string, at time.Time) error {
	_, _, err := st.update(ctx, k,
		"SET #b = if_not_exists(#b, :at)", "attribute_exists(#pk)",
		map[string]string{"#b": "breachedAt", "#pk": state.AttrPK},
		map[string]ddbtypes.AttributeValue{":at": ts(at)}, ddbtypes.ReturnValueNone)
	return err
}

// Get reads one record.
func (st *Store) Get(ctx context.Context, k string) (Record, bool, error) {
	out, err := st.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Table), Key: key(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Record{}, false, fmt.Errorf("read vulnerability record %s in table %s: %w", k, st.Table, err)
	}
	if out.Item == nil {
		return Record{}, false, nil
	}
	return fromItem(out.Item), true, nil
}

// List reads the whole log, in key order.
func (st *Store) List(ctx context.Context) ([]Record, error) {
	var recs []Record
	var start map[string]ddbtypes.AttributeValue
	for {
		out, err := st.API.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(st.Table),
			KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :pref)"),
			ExpressionAttributeNames:  map[string]string{"#pk": state.AttrPK, "#sk": state.AttrSK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": s(pkVuln), ":pref": s(skPref)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("read the vulnerability log in table %s: %w", st.Table, err)
		}
		for _, it := range out.Items {
			recs = append(recs, fromItem(it))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return recs, nil
		}
		start = out.LastEvaluatedKey
	}
}

// reopenTicketState sets the ticket state back to open after a close
// that failed, so the daily run closes it.
func (st *Store) reopenTicketState(ctx context.Context, k string) error {
	_, _, err := st.update(ctx, k, "SET #ts = :open", "#ts = :closed",
		map[string]string{"#ts": "ticketState"},
		map[string]ddbtypes.AttributeValue{":open": s(TicketOpen), ":closed": s(TicketClosed)}, ddbtypes.ReturnValueNone)
	return err
}

// forgetTicket moves a reopened finding's closed ticket to previousTicketId,
// so a new one can be opened (ClaimTicket wants no ticketId).
func (st *Store) forgetTicket(ctx context.Context, k, id string) error {
	_, _, err := st.update(ctx, k, "SET #prev = :id REMOVE #tid, #ts, #tp, #tsc", "#tid = :id",
		map[string]string{"#prev": "previousTicketId", "#tid": "ticketId", "#ts": "ticketState", "#tp": "ticketPriority", "#tsc": "ticketScore"},
		map[string]ddbtypes.AttributeValue{":id": s(id)}, ddbtypes.ReturnValueNone)
	return err
}
