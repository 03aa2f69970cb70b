package vuln

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Ticket is what a ticket says about a finding.
type Ticket struct {
	// Key is the finding's record key: the ticket's deduplication string.
	Key         string
	Title       string
	Description string
	Priority    string // P1–P4
	Severity    string
	Score       float64
	Due         time.Time
	Resource    string
	// ResourceARN links the resource in the console when it is an ARN.
	ResourceARN string
	Source      string
	FindingID   string
	Remediation string
}

// TicketFromRecord writes the ticket of a record.
func TicketFromRecord(r Record) Ticket {
	return Ticket{
		Key:   r.Key,
		Title: fmt.Sprintf("[%s] %s on %s", r.Priority, r.Title, r.Resource),
		Description: fmt.Sprintf("%s finding from %s (severity %s, risk score %.1f/100, priority %s). Remediate by %s.\n\nResource: %s\nFinding: %s\n\nRemediation: %s",
			r.Vuln, r.Source, r.Severity, r.Score, r.Priority, r.Due.Format(time.RFC3339), r.Resource, r.FindingID, orNone(r.Remediation)),
		Priority: r.Priority.String(), Severity: r.Severity, Score: r.Score, Due: r.Due,
		Resource: r.Resource, ResourceARN: r.ResourceID, Source: r.Source, FindingID: r.FindingID, Remediation: r.Remediation,
	}
}

func orNone(s string) string {
	if s == "" {
		return "none provided by the source; see the runbook"
	}
	return s
}

// Ticketer opens, updates, comments on and closes tickets.
type Ticketer interface {
	// Open opens the ticket and returns its id. Opening the same Key
	// twice while the first is open returns the first's id.
	Open(ctx context.Context, t Ticket) (string, error)
	Update(ctx context.Context, id string, t Ticket) error
	// Comment adds a note (an SLA breach).
	Comment(ctx context.Context, id, key, note string) error
	// Close resolves the ticket with a note.
	Close(ctx context.Context, id, note string) error
}

// OpsAPI is the part of *ssm.Client the OpsCenter ticketer uses.
type OpsAPI interface {
	CreateOpsItem(ctx context.Context, in *ssm.CreateOpsItemInput, optFns ...func(*ssm.Options)) (*ssm.CreateOpsItemOutput, error)
	UpdateOpsItem(ctx context.Context, in *ssm.UpdateOpsItemInput, optFns ...func(*ssm.Options)) (*ssm.UpdateOpsItemOutput, error)
}

var _ OpsAPI = (*ssm.Client)(nil)

// The limits of CreateOpsItem and UpdateOpsItem, from the AWS Systems
// Manager API reference
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateOpsItem.html):
// Title 1–1,024 characters, Description 1–2,048, Source 1–128 (not
// beginning with aws, amazon or amzn), Priority 1–5, Severity and
// Category 1–64; an OperationalData key at most 128 characters, not
// beginning with amazon, aws, amzn, ssm, /amazon, /aws, /amzn or /ssm
// (the documented /aws/dedup and /aws/resources keys excepted), a value
// at most 20 KB.
const (
	maxOpsTitle       = 1024
	maxOpsDescription = 2048
	maxOpsDataValue   = 20 << 10
	// OpsSource is the OpsItem Source of every ticket.
	OpsSource = "postdeploy"
	// OpsCategory is the OpsItem Category ("Security", one of the
	// console's categories).
	OpsCategory = "Security"
	// OpsTagKey and OpsTagValue are the tag CreateOpsItem puts on every
	// OpsItem respond opens. respond's role may update only OpsItems
	// carrying it (aws:ResourceTag on UpdateOpsItem, opsitem resource
	// type) and may create only with it (aws:RequestTag and aws:TagKeys
	// on CreateOpsItem): "Actions, resources, and condition keys for AWS
	// Systems Manager", Service Authorization Reference. The key and
	// value match the Tag shape of the API reference (key 1–128, value
	// 0–256 characters of letters, digits, spaces and _.:/=+-@).
	OpsTagKey   = "postdeploy:managed-by"
	OpsTagValue = "postdeploy"
)

// OpsCenter files tickets as AWS Systems Manager OpsCenter OpsItems. It
// makes one API call per decision, without SDK retries of a call that
// may have been processed (the caller builds the client so); opening is
// idempotent through OpsCenter's own deduplication: the /aws/dedup
// operational data key, under which "If the status of an existing
// OpsItem is open or in progress, the OpsItem is not created"
// (https://docs.aws.amazon.com/systems-manager/latest/userguide/OpsCenter-working-deduplication.html)
// — CreateOpsItem answers OpsItemAlreadyExistsException with the
// existing OpsItemId, which Open returns.
type OpsCenter struct {
	API OpsAPI
	// NotifyTopic, when set, is an SNS topic OpsCenter notifies when the
	// OpsItem changes.
	NotifyTopic string
}

var _ Ticketer = (*OpsCenter)(nil)

// opsPriority maps P1–P4 onto OpsItem priority 1–4 (of 1–5).
func opsPriority(p string) int32 {
	if n, err := strconv.ParseInt(strings.TrimPrefix(p, "P"), 10, 32); err == nil && n >= 1 && n <= 5 {
		return int32(n)
	}
	return 5
}

// opsSeverity maps a finding severity onto OpsItem severity 1 (critical)
// to 4 (low), as the OpsCenter console uses them.
func opsSeverity(sev string) string {
	switch sev {
	case "CRITICAL":
		return "1"
	case "HIGH":
		return "2"
	case "MEDIUM", "UNTRIAGED":
		return "3"
	}
	return "4"
}

// data is the OperationalData of a ticket: its priority, risk score,
// SLA due date, resource and remediation, searchable where a person
// filters by it.
func (t Ticket) data() map[string]ssmtypes.OpsItemDataValue {
	d := map[string]ssmtypes.OpsItemDataValue{
		"postdeploy:priority":    {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(t.Priority)},
		"postdeploy:riskScore":   {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(strconv.FormatFloat(t.Score, 'f', 1, 64))},
		"postdeploy:slaDue":      {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(t.Due.UTC().Format(time.RFC3339))},
		"postdeploy:resource":    {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(clip(t.Resource, maxOpsDataValue))},
		"postdeploy:findingId":   {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(clip(t.FindingID, maxOpsDataValue))},
		"postdeploy:remediation": {Type: ssmtypes.OpsItemDataTypeString, Value: aws.String(clip(orNone(t.Remediation), maxOpsDataValue))},
	}
	if strings.HasPrefix(t.ResourceARN, "arn:") {
		// /aws/resources links the resource in the console:
		// [{"arn":"…"}] (Creating OpsItems manually, Systems Manager
		// User Guide).
		b, _ := json.Marshal([]map[string]string{{"arn": t.ResourceARN}})
		d["/aws/resources"] = ssmtypes.OpsItemDataValue{Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(string(b))}
	}
	return d
}

// Open creates the OpsItem, deduplicated on the finding's key.
func (o *OpsCenter) Open(ctx context.Context, t Ticket) (string, error) {
	data := t.data()
	dedup, _ := json.Marshal(map[string]string{"dedupString": "postdeploy:" + t.Key})
	data["/aws/dedup"] = ssmtypes.OpsItemDataValue{Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(string(dedup))}
	in := &ssm.CreateOpsItemInput{
		Title:           aws.String(clipRunes(t.Title, maxOpsTitle)),
		Description:     aws.String(clipRunes(t.Description, maxOpsDescription)),
		Source:          aws.String(OpsSource),
		Category:        aws.String(OpsCategory),
		Priority:        aws.Int32(opsPriority(t.Priority)),
		Severity:        aws.String(opsSeverity(t.Severity)),
		OperationalData: data,
		// "To add tags to a new OpsItem, a user must have IAM permissions
		// for both the ssm:CreateOpsItems operation and the
		// ssm:AddTagsToResource operation" (CreateOpsItem, Tags).
		Tags: []ssmtypes.Tag{{Key: aws.String(OpsTagKey), Value: aws.String(OpsTagValue)}},
	}
	if o.NotifyTopic != "" {
		in.Notifications = []ssmtypes.OpsItemNotification{{Arn: aws.String(o.NotifyTopic)}}
	}
	out, err := o.API.CreateOpsItem(ctx, in)
	var exists *ssmtypes.OpsItemAlreadyExistsException
	if errors.As(err, &exists) && aws.ToString(exists.OpsItemId) != "" {
		return aws.ToString(exists.OpsItemId), nil
	}
	if err != nil {
		return "", fmt.Errorf("create OpsItem for finding %s: %w", t.Key, err)
	}
	return aws.ToString(out.OpsItemId), nil
}

// Update sets the OpsItem's priority, severity and operational data.
func (o *OpsCenter) Update(ctx context.Context, id string, t Ticket) error {
	_, err := o.API.UpdateOpsItem(ctx, &ssm.UpdateOpsItemInput{
		OpsItemId:       aws.String(id),
		Title:           aws.String(clipRunes(t.Title, maxOpsTitle)),
		Priority:        aws.Int32(opsPriority(t.Priority)),
		Severity:        aws.String(opsSeverity(t.Severity)),
		OperationalData: t.data(),
	})
	if err != nil {
		return fmt.Errorf("update OpsItem %s: %w", id, err)
	}
	return nil
}

// Comment records the note as operational data (OpsItems have no
// comments); a notification topic, when set, tells the watchers.
func (o *OpsCenter) Comment(ctx context.Context, id, key, note string) error {
	_, err := o.API.UpdateOpsItem(ctx, &ssm.UpdateOpsItemInput{
		OpsItemId: aws.String(id),
		OperationalData: map[string]ssmtypes.OpsItemDataValue{
			"postdeploy:" + key: {Type: ssmtypes.OpsItemDataTypeSearchableString, Value: aws.String(clip(note, maxOpsDataValue))},
		},
	})
	if err != nil {
		return fmt.Errorf("comment on OpsItem %s: %w", id, err)
	}
	return nil
}

// Close sets the OpsItem Resolved with the resolution as operational
// data.
func (o *OpsCenter) Close(ctx context.Context, id, note string) error {
	_, err := o.API.UpdateOpsItem(ctx, &ssm.UpdateOpsItemInput{
		OpsItemId: aws.String(id),
		Status:    ssmtypes.OpsItemStatusResolved,
		OperationalData: map[string]ssmtypes.OpsItemDataValue{
			"postdeploy:resolution": {Type: ssmtypes.OpsItemDataTypeString, Value: aws.String(clip(note, maxOpsDataValue))},
		},
	})
	if err != nil {
		return fmt.Errorf("resolve OpsItem %s: %w", id, err)
	}
	return nil
}

// clipRunes cuts s to at most n characters.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
