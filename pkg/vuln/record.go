package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Record is one finding in the vulnerability management log: one item
// of the state table (pk "vuln", sk "finding#<key>"), written when the
// finding is first seen, updated as it is seen again, its ticket opened
// or updated, its SLA breached, and when it is resolved. README
// "Vulnerability management" documents the attributes.
type Record struct {
	// Key identifies the finding across severity changes: source,
	// finding id and resource (Key).
	Key       string
	Source    string
	FindingID string
	Title     string
	// Vuln is what the finding is an instance of: its first CVE, else
	// its finding type and title (the digest groups by it).
	Vuln     string
	Resource string
	// ResourceID is the resource's ARN (or id) as the source gives it.
	ResourceID string
	Severity   string
	Priority   triage.Priority
	Score      float64
	FirstSeen  time.Time
	LastSeen   time.Time
	Due        time.Time
	// Remediation is the source's recommendation, clipped.
	Remediation string
	// Status is StatusOpen or StatusResolved.
	Status     string
	ResolvedAt time.Time
	// Resolution says what resolved it (e.g. "Inspector2 status CLOSED").
	Resolution string
	// TicketID is the OpsItem id once opened; TicketState TicketOpening,
	// TicketOpen, TicketFailed or TicketClosed.
	TicketID       string
	TicketState    string
	TicketPriority triage.Priority
	TicketScore    float64
	TicketError    string
	// BreachedAt is when the first SLA-breach alert went out.
	BreachedAt time.Time
}

// The record statuses and ticket states.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved"

	TicketOpening = "opening"
	TicketOpen    = "open"
	TicketFailed  = "failed"
	TicketClosed  = "closed"
)

// Key identifies a finding in the log: unlike triage.Key it leaves the
// severity out, so a finding that escalates is the same record (and
// keeps its ticket).
func Key(f triage.Finding) string {
	h := sha256.Sum256([]byte(f.Source + "\x00" + f.ID + "\x00" + f.Resource.Name()))
	return f.Source + "#" + hex.EncodeToString(h[:16])
}

// VulnOf names what a finding is an instance of, for digests: its first
// CVE (or other vulnerability id), else its type and title.
func VulnOf(f triage.Finding) string {
	if len(f.Vulnerabilities) > 0 {
		return strings.ToUpper(strings.TrimSpace(f.Vulnerabilities[0]))
	}
	return strings.TrimSpace(f.Type + " | " + strings.Join(strings.Fields(f.Title), " "))
}

// Overdue reports whether r is open and past its due date at now.
func (r Record) Overdue(now time.Time) bool {
	return r.Status == StatusOpen && !r.Due.IsZero() && now.After(r.Due)
}

// Attribute names of a record item.
const (
	pkVuln  = "vuln"
	skPref  = "finding#"
	aStatus = "status"
)

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v float64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatFloat(v, 'f', -1, 64)}
}
func ts(t time.Time) ddbtypes.AttributeValue { return s(t.UTC().Format(time.RFC3339)) }

func getN(it map[string]ddbtypes.AttributeValue, k string) float64 {
	if v, ok := it[k].(*ddbtypes.AttributeValueMemberN); ok {
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	}
	return 0
}

func getT(it map[string]ddbtypes.AttributeValue, k string) time.Time {
	t, _ := time.Parse(time.RFC3339, state.ReadString(it, k))
	return t
}

func prio(s string) triage.Priority {
	p, err := triage.ParsePriority(s)
	if err != nil {
		return 0
	}
	return p
}

// fromItem reads a record item.
func fromItem(it map[string]ddbtypes.AttributeValue) Record {
	return Record{
		Key:            strings.TrimPrefix(state.ReadString(it, "sk"), skPref),
		Source:         state.ReadString(it, "source"),
		FindingID:      state.ReadString(it, "findingId"),
		Title:          state.ReadString(it, "title"),
		Vuln:           state.ReadString(it, "vuln"),
		Resource:       state.ReadString(it, "resource"),
		ResourceID:     state.ReadString(it, "resourceId"),
		Severity:       state.ReadString(it, "severity"),
		Priority:       prio(state.ReadString(it, "priority")),
		Score:          getN(it, "score"),
		FirstSeen:      getT(it, "firstSeen"),
		LastSeen:       getT(it, "lastSeen"),
		Due:            getT(it, "due"),
		Remediation:    state.ReadString(it, "remediation"),
		Status:         state.ReadString(it, aStatus),
		ResolvedAt:     getT(it, "resolvedAt"),
		Resolution:     state.ReadString(it, "resolution"),
		TicketID:       state.ReadString(it, "ticketId"),
		TicketState:    state.ReadString(it, "ticketState"),
		TicketPriority: prio(state.ReadString(it, "ticketPriority")),
		TicketScore:    getN(it, "ticketScore"),
		TicketError:    state.ReadString(it, "ticketError"),
		BreachedAt:     getT(it, "breachedAt"),
	}
}

// FromFinding is the record of a scored finding seen at now.
func FromFinding(f triage.Finding, a triage.Assessment, now time.Time) Record {
	first := f.FirstSeen
	if first.IsZero() {
		first = now
	}
	last := f.LastSeen
	if last.IsZero() {
		last = now
	}
	return Record{
		Key:         Key(f),
		Source:      f.Source,
		FindingID:   clip(f.ID, 1024),
		Title:       clip(oneLine(f.Title), 512),
		Vuln:        clip(VulnOf(f), 512),
		Resource:    clip(f.Resource.Name(), 1024),
		ResourceID:  clip(f.Resource.ID, 1024),
		Severity:    f.Severity.String(),
		Priority:    a.Priority,
		Score:       a.Score,
		FirstSeen:   first.UTC(),
		LastSeen:    last.UTC(),
		Due:         a.Due,
		Remediation: clip(oneLine(f.Remediation), 2000),
		Status:      StatusOpen,
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Age is how long r has been open at now (or was, when resolved).
func (r Record) Age(now time.Time) time.Duration {
	end := now
	if r.Status == StatusResolved && !r.ResolvedAt.IsZero() {
		end = r.ResolvedAt
	}
	return end.Sub(r.FirstSeen)
}

func (r Record) String() string {
	return fmt.Sprintf("%s %s %s on %s (%s)", r.Priority, r.Severity, r.Title, r.Resource, r.Status)
}
