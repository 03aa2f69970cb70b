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
// read returns a *MalformedError naming the field. A scan that found
// nothing returns no findings and no error.
func FromEvent(ev events.EventBridgeEvent) ([]Finding, error) {
	if !IsSecurity(ev.Source, ev.DetailType) {
		return nil, ErrNotSecurity
	}
	bad := func(field string, err error) error {
		return &MalformedError{Source: ev.Source, DetailType: ev.DetailType, Field: field, Err: err}
	}
	if len(ev.Detail) == 0 || string(ev.Detail) == "null" {
		return nil, bad("detail", errors.New("missing"))
	}
	if len(ev.Detail) > maxDetailBytes {
		return nil, bad("detail", fmt.Errorf("%d bytes exceeds the %d-byte limit of an EventBridge event", len(ev.Detail), maxDetailBytes))
	}
	env := envelope{Account: ev.AccountID, Region: ev.Region, Time: ev.Time}
	switch ev.DetailType {
	case DetailECRScan:
		var d events.ECRScanEventDetailType
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		f, err := fromECRScan(d, env)
		if err != nil {
			return nil, bad(err.field, err.err)
		}
		return nonEmpty(f), nil
	case DetailInspectorScan:
		var d inspectorScanDetail
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		f, err := fromInspectorScan(d, env)
		if err != nil {
			return nil, bad(err.field, err.err)
		}
		return nonEmpty(f), nil
	case DetailInspectorFinding:
		var d InspectorFinding
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		f, err := d.finding(env)
		if err != nil {
			return nil, bad(err.field, err.err)
		}
		return []Finding{f}, nil
	case DetailGuardDutyFinding:
		var d guardDutyFinding
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		f, err := d.finding(env)
		if err != nil {
			return nil, bad(err.field, err.err)
		}
		return []Finding{f}, nil
	case DetailSecurityHubASFF:
		var d struct {
			Findings []asffFinding `json:"findings"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		return collect(len(d.Findings), func(i int) (Finding, *fieldErr) { return d.Findings[i].finding(env) }, bad)
	case DetailSecurityHubOCSF:
		var d struct {
			Findings []ocsfFinding `json:"findings"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return nil, bad("detail", err)
		}
		return collect(len(d.Findings), func(i int) (Finding, *fieldErr) { return d.Findings[i].finding(env) }, bad)
	}
	return nil, ErrNotSecurity
}

func collect(n int, get func(int) (Finding, *fieldErr), bad func(string, error) error) ([]Finding, error) {
	if n == 0 {
		return nil, bad("detail.findings", errors.New("no findings"))
	}
	if n > maxFindingsPerEvent {
		return nil, bad("detail.findings", fmt.Errorf("%d findings exceeds %d", n, maxFindingsPerEvent))
	}
	out := make([]Finding, 0, n)
	for i := range n {
		f, err := get(i)
		if err != nil {
			return nil, bad(fmt.Sprintf("detail.findings[%d].%s", i, err.field), err.err)
		}
		out = append(out, f)
	}
	return out, nil
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
