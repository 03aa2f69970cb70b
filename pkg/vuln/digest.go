package vuln

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/notify"
	"github.com/postdeploy/postdeploy/pkg/state"
	"github.com/postdeploy/postdeploy/pkg/triage"
)

// Alert fatigue: when one vulnerability (a CVE, or a finding type and
// title) appears on many resources within the dedupe window, people get
// one digest naming every resource instead of one message each. The
// first DigestThreshold-1 resources are notified one by one; the one
// that reaches the threshold sends the digest, naming every resource
// seen so far; later resources are added to the digest record and
// folded into an update of the digest sent at most once an hour, never
// a message each.

// DigestAction is what becomes of one finding's notification.
type DigestAction int

// The digest actions.
const (
	// Individual: below the threshold, notify the finding on its own.
	Individual DigestAction = iota
	// SendDigest: this finding reached the threshold: send the digest.
	SendDigest
	// UpdateDigest: the digest was sent; this finding sends its hourly
	// update.
	UpdateDigest
	// Folded: the digest (or this hour's update) names it; nothing is
	// sent for it.
	Folded
)

func (a DigestAction) String() string {
	return [...]string{"individual", "digest", "digest-update", "folded"}[a]
}

// DigestDecision is the digest's verdict on one finding.
type DigestDecision struct {
	Action DigestAction
	// Key is the digest record's key; Claims the claims this decision
	// took (released when its message cannot be sent).
	Key    string
	Claims []string
	Count  int
}

// digestKey is the digest record of vuln in the window that holds now.
func (m *Manager) digestKey(vuln string, now time.Time) string {
	w := int64(m.DigestWindow / time.Second)
	start := now.Unix() / w * w
	h := sha256.Sum256([]byte(vuln))
	return "digest#" + hex.EncodeToString(h[:12]) + "#" + strconv.FormatInt(start, 10)
}

// Digest adds f's resource to its vulnerability's digest and says how
// f is notified. Call it once f's own dedupe claim is taken.
func (m *Manager) Digest(ctx context.Context, f triage.Finding, a triage.Assessment) (DigestDecision, error) {
	if m.DigestThreshold <= 0 {
		return DigestDecision{Action: Individual}, nil
	}
	now := m.Now()
	d := DigestDecision{Key: m.digestKey(VulnOf(f), now)}
	res, err := m.addDigestResource(ctx, d.Key, f, a, now)
	if err != nil {
		return DigestDecision{Action: Individual}, err
	}
	d.Count = len(res)
	if d.Count < m.DigestThreshold {
		d.Action = Individual
		return d, nil
	}
	if m.Claims == nil {
		d.Action = SendDigest
		return d, nil
	}
	hour := d.Key + "#update#" + now.UTC().Format("2006010215")
	sent, err := m.Claims.Claim(ctx, d.Key+"#sent", m.DigestWindow, map[string]string{"kind": "digest"})
	if err != nil {
		return DigestDecision{Action: Individual}, fmt.Errorf("claim the digest %s: %w", d.Key, err)
	}
	if sent {
		// This hour's update goes with the digest itself.
		if _, err := m.Claims.Claim(ctx, hour, 2*time.Hour, map[string]string{"kind": "digest-update"}); err != nil {
			m.Log.ErrorContext(ctx, "claim the digest's hourly update", "digest", d.Key, "error", err.Error())
		}
		d.Action, d.Claims = SendDigest, []string{d.Key + "#sent"}
		return d, nil
	}
	upd, err := m.Claims.Claim(ctx, hour, 2*time.Hour, map[string]string{"kind": "digest-update"})
	if err != nil {
		return DigestDecision{Action: Folded}, fmt.Errorf("claim the digest update %s: %w", hour, err)
	}
	if upd {
		d.Action, d.Claims = UpdateDigest, []string{hour}
		return d, nil
	}
	d.Action = Folded
	return d, nil
}

// addDigestResource adds f's resource to the digest record (a string
// set, so a repeated delivery adds nothing) and returns every resource
// the record names.
func (m *Manager) addDigestResource(ctx context.Context, k string, f triage.Finding, a triage.Assessment, now time.Time) ([]string, error) {
	res := clip(f.Resource.Name(), 1024)
	if res == "" {
		res = clip(f.ID, 1024)
	}
	out, err := m.Store.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(m.Store.Table),
		Key:              map[string]ddbtypes.AttributeValue{state.AttrPK: s(k), state.AttrSK: s("digest")},
		UpdateExpression: aws.String("ADD #r :rs SET #v = :v, #t = if_not_exists(#t, :t), #sev = :sev, #p = :p, #first = if_not_exists(#first, :now), #exp = if_not_exists(#exp, :exp)"),
		ExpressionAttributeNames: map[string]string{
			"#r": "resources", "#v": "vuln", "#t": "title", "#sev": "severity", "#p": "priority", "#first": "firstAt", "#exp": state.AttrExpiresAt,
		},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":rs": &ddbtypes.AttributeValueMemberSS{Value: []string{res}}, ":v": s(clip(VulnOf(f), 512)), ":t": s(clip(oneLine(f.Title), 512)),
			":sev": s(f.Severity.String()), ":p": s(a.Priority.String()), ":now": ts(now),
			":exp": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(2*m.DigestWindow).Unix(), 10)},
		},
		ReturnValues: ddbtypes.ReturnValueAllNew,
	})
	if err != nil {
		return nil, fmt.Errorf("add %s to digest %s in table %s: %w", res, k, m.Store.Table, err)
	}
	return stringSet(out.Attributes["resources"]), nil
}

func stringSet(av ddbtypes.AttributeValue) []string {
	ss, ok := av.(*ddbtypes.AttributeValueMemberSS)
	if !ok {
		return nil
	}
	out := append([]string(nil), ss.Value...)
	sort.Strings(out)
	return out
}

// Digested is a digest as its record holds it.
type Digested struct {
	Vuln, Title, Severity, Priority string
	FirstAt                         time.Time
	Resources                       []string
}

// ReadDigest reads the digest record k, to render the digest or its
// update with every resource it names by then.
func (m *Manager) ReadDigest(ctx context.Context, k string) (Digested, error) {
	out, err := m.Store.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(m.Store.Table),
		Key:            map[string]ddbtypes.AttributeValue{state.AttrPK: s(k), state.AttrSK: s("digest")},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Digested{}, fmt.Errorf("read digest %s in table %s: %w", k, m.Store.Table, err)
	}
	it := out.Item
	return Digested{
		Vuln: state.ReadString(it, "vuln"), Title: state.ReadString(it, "title"), Severity: state.ReadString(it, "severity"), Priority: state.ReadString(it, "priority"),
		FirstAt: getT(it, "firstAt"), Resources: stringSet(it["resources"]),
	}, nil
}

// maxDigestNames bounds the resources a digest lists by name; the rest
// are counted (the message stays well under SNS's 256 KiB).
const maxDigestNames = 500

// DigestAlert renders the digest (update when it is the hourly update).
func DigestAlert(d Digested, update bool, window time.Duration) notify.Alert {
	n := len(d.Resources)
	verb := "Digest"
	if update {
		verb = "Digest update"
	}
	a := notify.Alert{
		Kind:     notify.Security,
		Severity: d.Severity,
		Priority: d.Priority,
		Service:  d.Vuln,
		Title:    fmt.Sprintf("%s: %s on %d resources", verb, clipRunes(d.Vuln, 60), n),
		What: fmt.Sprintf("%s (%s) was found on %s since %s. This one message replaces a message per resource; later resources are added to this digest and sent as an update at most once an hour.",
			d.Vuln, d.Title, notify.Count(n, "resource", "resources"), d.FirstAt.Format(time.RFC3339)),
		Where:    fmt.Sprintf("%d resources (listed under Evidence)", n),
		Why:      fmt.Sprintf("One vulnerability on many resources is usually one fix (a base image, a package, a shared setting): fix it once, then rescan. Each finding keeps its own ticket and SLA; the dedupe window is %s.", human(window)),
		Event:    "Vulnerability Digest",
		ThreadID: "vuln-digest-" + d.Vuln,
		Attributes: map[string]string{
			"findingType": "DIGEST", "resources": strconv.Itoa(n),
		},
	}
	for i, r := range d.Resources {
		if i == maxDigestNames {
			a.Evidence = append(a.Evidence, fmt.Sprintf("… and %d more (the state table's digest record lists them all)", n-maxDigestNames))
			break
		}
		a.Evidence = append(a.Evidence, "Resource: "+r)
	}
	return a
}

// digestSummary is a one-line description for logs.
func (d Digested) String() string {
	return fmt.Sprintf("%s on %d resources: %s", d.Vuln, len(d.Resources), strings.Join(d.Resources, ", "))
}
