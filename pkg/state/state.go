package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the table.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrExpiresAt = "expiresAt"
	attrAttrs     = "attrs"
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store reads and writes the state table.
type Store struct {
	api   API
	table string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// IncidentTTL is how long an incident record is kept after its last
	// change (default 30 days); AuditTTL the same for audit records
	// (default 90 days).
	IncidentTTL time.Duration
	AuditTTL    time.Duration
}

// New returns a store on table through api.
func New(api API, table string) *Store {
	return &Store{api: api, table: table, Now: time.Now, IncidentTTL: 30 * 24 * time.Hour, AuditTTL: 90 * 24 * time.Hour}
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

const (
	skClaim    = "claim"
	skCounter  = "counter"
	skIncident = "incident"
)

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func keyOf(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func strMap(m map[string]string) ddbtypes.AttributeValue {
	av := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, v := range m {
		av[k] = str(v)
	}
	return &ddbtypes.AttributeValueMemberM{Value: av}
}

func readStrMap(av ddbtypes.AttributeValue) map[string]string {
	m, ok := av.(*ddbtypes.AttributeValueMemberM)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m.Value))
	for k, v := range m.Value {
		if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
			out[k] = s.Value
		}
	}
	return out
}

// ReadString is item's string attribute name, "" when it is absent or not
// a string: the one reader of string attributes for every package that
// keeps records in the state table.
func ReadString(item map[string]ddbtypes.AttributeValue, name string) string {
	if s, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func readInt(item map[string]ddbtypes.AttributeValue, name string) int64 {
	if n, ok := item[name].(*ddbtypes.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

func readBool(item map[string]ddbtypes.AttributeValue, name string) bool {
	b, ok := item[name].(*ddbtypes.AttributeValueMemberBOOL)
	return ok && b.Value
}

// epochCeil is t in whole epoch seconds, rounded up so an expiry is never
// earlier than asked.
func epochCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// IsConditionFailed reports whether err is DynamoDB refusing a
// conditional write.
func IsConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Claim takes key for ttl with a conditional put: true when this caller
// now holds it (the key was absent or its claim had expired), false when
// someone else holds it. attrs are stored with the claim (who, why) and
// returned by Holder. DynamoDB's TTL deletes late, so the condition
// compares expiresAt itself.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration, attrs map[string]string) (bool, error) {
	if key == "" {
		return false, errors.New("claim: empty key")
	}
	if ttl <= 0 {
		return false, fmt.Errorf("claim %q: ttl %s must be positive", key, ttl)
	}
	now := s.now()
	item := keyOf(key, skClaim)
	item[AttrExpiresAt] = num(epochCeil(now.Add(ttl)))
	item["claimedAt"] = str(now.UTC().Format(time.RFC3339Nano))
	if len(attrs) > 0 {
		item[attrAttrs] = strMap(attrs)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #exp <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": num(now.Unix())},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim %q in table %s: %w", key, s.table, err)
	}
	return true, nil
}

// Hold is a live claim.
type Hold struct {
	Key       string
	ClaimedAt time.Time
	ExpiresAt time.Time
	Attrs     map[string]string
}

// Holder returns the live claim on key, if any (an expired claim is
// reported as none).
func (s *Store) Holder(ctx context.Context, key string) (Hold, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf(key, skClaim),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Hold{}, false, fmt.Errorf("read claim %q in table %s: %w", key, s.table, err)
	}
	if out.Item == nil {
		return Hold{}, false, nil
	}
	exp := readInt(out.Item, AttrExpiresAt)
	if exp <= s.now().Unix() {
		return Hold{}, false, nil
	}
	h := Hold{Key: key, ExpiresAt: time.Unix(exp, 0).UTC(), Attrs: readStrMap(out.Item[attrAttrs])}
	h.ClaimedAt, _ = time.Parse(time.RFC3339Nano, ReadString(out.Item, "claimedAt"))
	return h, true, nil
}

// Release gives up a claim so the key can be claimed again at once (for
// example when the work it guarded failed before doing anything and
// should be retried).
func (s *Store) Release(ctx context.Context, key string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       keyOf(key, skClaim),
	})
	if err != nil {
		return fmt.Errorf("release claim %q in table %s: %w", key, s.table, err)
	}
	return nil
}

// Take counts one use of key in the current fixed window of the given
// length and reports whether it was within limit: an atomic ADD
// conditioned on the count being below limit, so concurrent callers
// never exceed it. n is the count after this use (or the count that
// refused it).
func (s *Store) Take(ctx context.Context, key string, limit int, window time.Duration) (ok bool, n int, err error) {
	if window < time.Second {
		return false, 0, fmt.Errorf("take %q: window %s must be at least 1s", key, window)
	}
	if limit <= 0 {
		return false, 0, nil
	}
	now := s.now()
	w := int64(window / time.Second)
	start := now.Unix() / w * w
	pk := "count#" + key + "#" + strconv.FormatInt(start, 10)
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      keyOf(pk, skCounter),
		UpdateExpression:         aws.String("ADD #n :one SET #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#n) OR #n < :limit"),
		ExpressionAttributeNames: map[string]string{"#n": "n", "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":one": num(1), ":limit": num(int64(limit)), ":exp": num(start + 2*w),
		},
		ReturnValues:                        ddbtypes.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var ccf *ddbtypes.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			// The condition failed, so the count is at least limit;
			// DynamoDB returns the item, emulators may not.
			if n := int(readInt(ccf.Item, "n")); n > 0 {
				return false, n, nil
			}
			return false, limit, nil
		}
		return false, 0, fmt.Errorf("count %q in table %s: %w", key, s.table, err)
	}
	return true, int(readInt(out.Attributes, "n")), nil
}

// Incident is one open (or just closed) incident.
type Incident struct {
	ID        string
	Open      bool
	OpenedAt  time.Time
	ClosedAt  time.Time
	Attempts  int
	Escalated bool
	Attrs     map[string]string
}

func incidentFrom(id string, item map[string]ddbtypes.AttributeValue) Incident {
	in := Incident{
		ID:        id,
		Open:      ReadString(item, "status") == "open",
		Attempts:  int(readInt(item, "attempts")),
		Escalated: readBool(item, "escalated"),
		Attrs:     readStrMap(item[attrAttrs]),
	}
	in.OpenedAt, _ = time.Parse(time.RFC3339Nano, ReadString(item, "openedAt"))
	in.ClosedAt, _ = time.Parse(time.RFC3339Nano, ReadString(item, "closedAt"))
	return in
}

// OpenIncident opens incident id, opened at `at`, unless one is already
// open; it returns the open incident either way and whether this call
// opened it.
func (s *Store) OpenIncident(ctx context.Context, id string, at time.Time, attrs map[string]string) (Incident, bool, error) {
	item := keyOf("incident#"+id, skIncident)
	item["status"] = str("open")
	item["openedAt"] = str(at.UTC().Format(time.RFC3339Nano))
	item["attempts"] = num(0)
	item["escalated"] = &ddbtypes.AttributeValueMemberBOOL{Value: false}
	item[AttrExpiresAt] = num(epochCeil(s.now().Add(s.IncidentTTL)))
	if len(attrs) > 0 {
		item[attrAttrs] = strMap(attrs)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #status <> :open"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":open": str("open")},
	})
	if err == nil {
		return incidentFrom(id, item), true, nil
	}
	if !IsConditionFailed(err) {
		return Incident{}, false, fmt.Errorf("open incident %q in table %s: %w", id, s.table, err)
	}
	in, ok, err := s.Incident(ctx, id)
	if err != nil {
		return Incident{}, false, err
	}
	if !ok {
		return Incident{}, false, fmt.Errorf("open incident %q in table %s: open record vanished; retry", id, s.table)
	}
	return in, false, nil
}

// Incident reads incident id.
func (s *Store) Incident(ctx context.Context, id string) (Incident, bool, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            keyOf("incident#"+id, skIncident),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Incident{}, false, fmt.Errorf("read incident %q in table %s: %w", id, s.table, err)
	}
	if out.Item == nil {
		return Incident{}, false, nil
	}
	return incidentFrom(id, out.Item), true, nil
}

// RecordAttempt counts one more failed remediation attempt on the open
// incident id and returns the new count.
func (s *Store) RecordAttempt(ctx context.Context, id string) (int, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf("incident#"+id, skIncident),
		UpdateExpression:          aws.String("ADD attempts :one"),
		ConditionExpression:       aws.String("#status = :open"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": num(1), ":open": str("open")},
		ReturnValues:              ddbtypes.ReturnValueUpdatedNew,
	})
	if IsConditionFailed(err) {
		return 0, fmt.Errorf("record attempt on incident %q: no open incident", id)
	}
	if err != nil {
		return 0, fmt.Errorf("record attempt on incident %q in table %s: %w", id, s.table, err)
	}
	return int(readInt(out.Attributes, "attempts")), nil
}

// MarkEscalated flags the open incident id as escalated; true only for the
// one caller that set the flag, so an incident is escalated once.
func (s *Store) MarkEscalated(ctx context.Context, id string) (bool, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       keyOf("incident#"+id, skIncident),
		UpdateExpression:          aws.String("SET escalated = :t"),
		ConditionExpression:       aws.String("#status = :open AND escalated = :f"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberBOOL{Value: true}, ":f": &ddbtypes.AttributeValueMemberBOOL{Value: false}, ":open": str("open")},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark incident %q escalated in table %s: %w", id, s.table, err)
	}
	return true, nil
}

// CloseIncident closes the open incident id at `at` and returns it (with
// OpenedAt, for time to recover); false when none was open, so only one
// of several concurrent OK deliveries closes it.
func (s *Store) CloseIncident(ctx context.Context, id string, at time.Time) (Incident, bool, error) {
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      keyOf("incident#"+id, skIncident),
		UpdateExpression:         aws.String("SET #status = :closed, closedAt = :at, #exp = :exp"),
		ConditionExpression:      aws.String("#status = :open"),
		ExpressionAttributeNames: map[string]string{"#status": "status", "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":closed": str("closed"), ":open": str("open"),
			":at":  str(at.UTC().Format(time.RFC3339Nano)),
			":exp": num(epochCeil(s.now().Add(s.IncidentTTL))),
		},
		ReturnValues: ddbtypes.ReturnValueAllNew,
	})
	if IsConditionFailed(err) {
		return Incident{}, false, nil
	}
	if err != nil {
		return Incident{}, false, fmt.Errorf("close incident %q in table %s: %w", id, s.table, err)
	}
	return incidentFrom(id, out.Attributes), true, nil
}

// Record is one audit record.
type Record struct {
	Stream string
	At     time.Time
	Attrs  map[string]string
}

// Audit appends one record to stream.
func (s *Store) Audit(ctx context.Context, stream string, at time.Time, attrs map[string]string) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	item := keyOf("audit#"+stream, at.UTC().Format(time.RFC3339Nano)+"#"+hex.EncodeToString(rnd[:]))
	item[AttrExpiresAt] = num(epochCeil(s.now().Add(s.AuditTTL)))
	item[attrAttrs] = strMap(attrs)
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("write audit record to %q in table %s: %w", stream, s.table, err)
	}
	return nil
}

// Trail lists stream's audit records, oldest first, up to limit (0: all).
func (s *Store) Trail(ctx context.Context, stream string, limit int) ([]Record, error) {
	var recs []Record
	var start map[string]ddbtypes.AttributeValue
	for {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str("audit#" + stream)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("read audit trail %q in table %s: %w", stream, s.table, err)
		}
		for _, it := range out.Items {
			r := Record{Stream: stream, Attrs: readStrMap(it[attrAttrs])}
			sk := ReadString(it, AttrSK)
			if i := len(sk) - 13; i > 0 {
				r.At, _ = time.Parse(time.RFC3339Nano, sk[:i])
			}
			recs = append(recs, r)
			if limit > 0 && len(recs) == limit {
				return recs, nil
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].At.Before(recs[j].At) })
	return recs, nil
}

// TableAPI is the part of *dynamodb.Client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates the state table's layout (for tests and the demo;
// the CDK stack creates it in AWS) and waits until it is active.
func CreateTable(ctx context.Context, api TableAPI, table string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create state table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		return fmt.Errorf("wait for state table %s to be active: %w", table, err)
	}
	return nil
}
