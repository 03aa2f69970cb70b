package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// EventBridge sources and detail-types of the security events triage reads.
const (
	SourceEventECR          = "aws.ecr"
	SourceEventInspector    = "aws.inspector2"
	SourceEventGuardDuty    = "aws.guardduty"
	SourceEventSecurityHub  = "aws.securityhub"
	DetailECRScan           = "ECR Image Scan"
	DetailInspectorFinding  = "Inspector2 Finding"
	DetailInspectorScan     = "Inspector2 Scan"
	DetailGuardDutyFinding  = "GuardDuty Finding"
	DetailSecurityHubASFF   = "Security Hub Findings - Imported"
	DetailSecurityHubOCSF   = "Findings Imported V2"
	maxFindingsPerEvent     = 100
	maxDetailBytes          = 256 << 10 // EventBridge's own event size limit
	eventBridgeTimeLayout12 = "Jan 2, 2006, 3:04:05 PM"
)

// ErrNotSecurity is returned by FromEvent for an event that is not one of
// the security detail-types it knows.
var ErrNotSecurity = errors.New("not a security finding event")

// MalformedError says why an event's detail could not be read. Field names
// the JSON path at fault.
type MalformedError struct {
	Source, DetailType string
	Field              string
	Err                error
}

func (e *MalformedError) Error() string {
	where := e.Field
	if where == "" {
		where = "detail"
	}
	return fmt.Sprintf("malformed %q event from %s: %s: %v", e.DetailType, e.Source, where, e.Err)
}

func (e *MalformedError) Unwrap() error { return e.Err }

// IsSecurity reports whether FromEvent reads events of this source and
// detail-type.
func IsSecurity(source, detailType string) bool {
	switch source {
	case SourceEventECR:
		return detailType == DetailECRScan
	case SourceEventInspector:
		return detailType == DetailInspectorFinding || detailType == DetailInspectorScan
	case SourceEventGuardDuty:
		return detailType == DetailGuardDutyFinding
	case SourceEventSecurityHub:
		return detailType == DetailSecurityHubASFF || detailType == DetailSecurityHubOCSF
	}
	return false
}

// FromEvent normalises the findings an EventBridge security event carries.
// An event it does not read returns ErrNotSecurity; a detail it cannot
// read at all returns a *MalformedError naming the field. A Security Hub
// event carries a batch (detail.findings[]): each finding is read on its
// own, and one that cannot be read is refused — returned in refused as a
// *MalformedError naming detail.findings[i] and the field — while the
// others are returned, so one bad finding never drops a CRITICAL beside
// it. A scan that found nothing returns no findings and no error.
func FromEvent(ev events.EventBridgeEvent) (findings []Finding, refused []*MalformedError, err error) {
	if !IsSecurity(ev.Source, ev.DetailType) {
		return nil, nil, ErrNotSecurity
	}
	bad := func(field string, err error) *MalformedError {
		return &MalformedError{Source: ev.Source, DetailType: ev.DetailType, Field: field, Err: err}
	}
	if len(ev.Detail) == 0 || string(ev.Detail) == "null" {
		return nil, nil, bad("detail", errors.New("missing"))
	}
	if len(ev.Detail) > maxDetailBytes {
		return nil, nil, bad("detail", fmt.Errorf("%d bytes exceeds the %d-byte limit of an EventBridge event", len(ev.Detail), maxDetailBytes))
	}
	env := envelope{Account: ev.AccountID, Region: ev.Region, Time: ev.Time}
	one := func(f Finding, ferr *fieldErr) ([]Finding, []*MalformedError, error) {
		if ferr != nil {
			return nil, nil, bad(ferr.field, ferr.err)
		}
		return []Finding{f}, nil, nil
	}
	switch ev.DetailType {
	case DetailECRScan:
		var d events.ECRScanEventDetailType
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, nil, bad("detail", err)
		}
		f, ferr := fromECRScan(d, env)
		if ferr != nil {
			return nil, nil, bad(ferr.field, ferr.err)
		}
		return nonEmpty(f), nil, nil
	case DetailInspectorScan:
		var d inspectorScanDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, nil, bad("detail", err)
		}
		f, ferr := fromInspectorScan(d, env)
		if ferr != nil {
			return nil, nil, bad(ferr.field, ferr.err)
		}
		return nonEmpty(f), nil, nil
	case DetailInspectorFinding:
		var d InspectorFinding
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, nil, bad("detail", err)
		}
		return one(d.finding(env))
	case DetailGuardDutyFinding:
		var d guardDutyFinding
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, nil, bad("detail", err)
		}
		return one(d.finding(env))
	case DetailSecurityHubASFF:
		return decodeBatch[asffFinding](ev.Detail, env, bad)
	case DetailSecurityHubOCSF:
		return decodeBatch[ocsfFinding](ev.Detail, env, bad)
	}
	return nil, nil, ErrNotSecurity
}

// batchFinding is one finding format of a Security Hub batch.
type batchFinding interface {
	finding(env envelope) (Finding, *fieldErr)
}

// decodeBatch reads detail.findings[] one finding at a time: the
// envelope of the batch must decode (an object whose findings is an array
// of 1 to maxFindingsPerEvent), then each finding is decoded from its own
// raw JSON and either accepted or refused with its index and field.
func decodeBatch[T batchFinding](detail json.RawMessage, env envelope, bad func(string, error) *MalformedError) ([]Finding, []*MalformedError, error) {
	var d struct {
		Findings []json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return nil, nil, bad(jsonField("detail", err), jsonErr(err))
	}
	switch n := len(d.Findings); {
	case n == 0:
		return nil, nil, bad("detail.findings", errors.New("no findings"))
	case n > maxFindingsPerEvent:
		return nil, nil, bad("detail.findings", fmt.Errorf("%d findings exceeds %d", n, maxFindingsPerEvent))
	}
	var out []Finding
	var refused []*MalformedError
	for i, raw := range d.Findings {
		at := fmt.Sprintf("detail.findings[%d]", i)
		var one T
		if err := json.Unmarshal(raw, &one); err != nil {
			refused = append(refused, bad(jsonField(at, err), jsonErr(err)))
			continue
		}
		f, ferr := one.finding(env)
		if ferr != nil {
			refused = append(refused, bad(at+"."+ferr.field, ferr.err))
			continue
		}
		out = append(out, f)
	}
	return out, refused, nil
}

// jsonField names the field a decode error is about, under prefix.
func jsonField(prefix string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return prefix + "." + te.Field
	}
	return prefix
}

// jsonErr says what a decode error found, without Go type names.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("want %s, got JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a number"
}

func nonEmpty(f Finding) []Finding {
	if len(f.Counts) == 0 {
		return nil
	}
	return []Finding{f}
}

// fieldErr is a decoding problem at a field path.
type fieldErr struct {
	field string
	err   error
}

func missing(field string) *fieldErr { return &fieldErr{field, errors.New("missing")} }

// envelope is what the EventBridge envelope adds to a detail.
type envelope struct {
	Account, Region string
	Time            time.Time
}

// parseTime reads the timestamps the services put in events: RFC 3339
// (GuardDuty, ASFF, OCSF *_dt), Inspector's "Mar 22, 2022, 10:43:11 PM",
// or epoch milliseconds (OCSF). It returns the zero time for anything
// else: a timestamp is evidence, not worth rejecting a finding for.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, eventBridgeTimeLayout12, "Jan 2, 2006 3:04:05 PM"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

func yes(s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "YES", "TRUE", "PARTIAL":
		return true
	}
	return false
}

// parseECRImageARN splits an image resource id such as
// "arn:aws:ecr:us-east-1:123456789012:repository/app/sha256:abc" into the
// repository name and digest. Either may come back empty.
func parseECRImageARN(arn string) (repo, digest string) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", ""
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) < 5 || parts[1] != "ecr" {
		return "", ""
	}
	res, ok := strings.CutPrefix(parts[4], "repository/")
	if !ok {
		return "", ""
	}
	if i := strings.Index(res, "/sha256:"); i >= 0 {
		return res[:i], res[i+1:]
	}
	return res, ""
}

// repositoryName returns the repository name from either a name or a
// repository ARN (Inspector2 Scan events carry the ARN).
func repositoryName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if repo, _ := parseECRImageARN(s); repo != "" {
			return repo
		}
	}
	return s
}
