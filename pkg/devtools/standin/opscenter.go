package standin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// AWS Systems Manager OpsCenter: CreateOpsItem, UpdateOpsItem and
// GetOpsItem (JSON 1.1, target prefix AmazonSSM), as strict as the API
// reference
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateOpsItem.html,
// API_UpdateOpsItem.html): Title 1–1,024 characters and Description
// 1–2,048 (both required on create), Source 1–128 and not beginning
// with aws, amazon or amzn, Priority 1–5, Severity and Category 1–64;
// an OperationalData key 1–128 characters not beginning with amazon,
// aws, amzn, ssm, /amazon, /aws, /amzn or /ssm (the documented
// /aws/dedup, /aws/resources and /aws/automations keys excepted), a
// value at most 20 KB, Type String or SearchableString; refused input
// is OpsItemInvalidParameterException naming the parameter. An OpsItem
// whose /aws/dedup string matches an Open or InProgress one is not
// created: OpsItemAlreadyExistsException with that OpsItemId ("Managing
// duplicate OpsItems", Systems Manager User Guide). UpdateOpsItem of an
// unknown id is OpsItemNotFoundException. CreateOpsItem's Tags: at most
// 1,000, each Key 1–128 and Value 0–256 characters matching the Tag
// pattern (API reference, CreateOpsItem and Tag), refused likewise;
// kept on the OpsItem (OpsItems) and, as in AWS, absent from
// GetOpsItem's answer.

// OpsItem is one OpsCenter OpsItem as the stand-in keeps it.
type OpsItem struct {
	ID              string            `json:"opsItemId"`
	Title           string            `json:"title"`
	Description     string            `json:"description"`
	Source          string            `json:"source"`
	Category        string            `json:"category,omitempty"`
	Severity        string            `json:"severity,omitempty"`
	Priority        int               `json:"priority,omitempty"`
	Status          string            `json:"status"`
	OperationalData map[string]string `json:"operationalData,omitempty"`
	// Tags are the tags CreateOpsItem was given. GetOpsItem does not
	// return them: the OpsItem of its response has no Tags member (API
	// reference, GetOpsItem and OpsItem).
	Tags     map[string]string `json:"tags,omitempty"`
	Created  time.Time         `json:"created"`
	Modified time.Time         `json:"modified"`
	Version  int               `json:"version"`
	Updates  int               `json:"updates"`
	dedup    string
}

// opsItems is each server's OpsItems. The handlers run with Server.mu
// held, and OpsItems takes it, so the map is only touched under it.
var opsItems = map[*Server][]*OpsItem{}

// OpsItems returns the OpsItems created so far, oldest first.
func (s *Server) OpsItems() []OpsItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OpsItem
	for _, it := range opsItems[s] {
		c := *it
		c.OperationalData = map[string]string{}
		for k, v := range it.OperationalData {
			c.OperationalData[k] = v
		}
		if it.Tags != nil {
			c.Tags = map[string]string{}
			for k, v := range it.Tags {
				c.Tags[k] = v
			}
		}
		out = append(out, c)
	}
	return out
}

var opsReservedKeyPrefixes = []string{"amazon", "aws", "amzn", "ssm", "/amazon", "/aws", "/amzn", "/ssm"}

var opsAWSKeys = map[string]bool{"/aws/dedup": true, "/aws/resources": true, "/aws/automations": true}

var opsStatuses = map[string]bool{"Open": true, "InProgress": true, "Resolved": true}

func opsInvalid(param, format string, args ...any) *APIError {
	return apiErr(400, "OpsItemInvalidParameterException", "%s: %s", param, fmt.Sprintf(format, args...))
}

// opsFields checks the fields CreateOpsItem and UpdateOpsItem share.
func opsFields(in map[string]any, create bool) *APIError {
	lengths := []struct {
		name     string
		min, max int
	}{{"Title", 1, 1024}, {"Description", 1, 2048}, {"Source", 1, 128}, {"Severity", 1, 64}, {"Category", 1, 64}}
	for _, l := range lengths {
		v, present := in[l.name]
		sv, _ := v.(string)
		if !present {
			if create && (l.name == "Title" || l.name == "Description" || l.name == "Source") {
				return opsInvalid(l.name, "required")
			}
			continue
		}
		if n := len([]rune(sv)); n < l.min || n > l.max {
			return opsInvalid(l.name, "length %d, must be %d to %d", n, l.min, l.max)
		}
	}
	if src := strings.ToLower(str(in, "Source")); strings.HasPrefix(src, "aws") || strings.HasPrefix(src, "amazon") || strings.HasPrefix(src, "amzn") {
		return opsInvalid("Source", "%q must not begin with aws, amazon or amzn", str(in, "Source"))
	}
	if p, ok := intField(in, "Priority"); ok && (p < 1 || p > 5) {
		return opsInvalid("Priority", "%d must be 1 to 5", p)
	}
	for k, raw := range obj(in, "OperationalData") {
		if n := len([]rune(k)); n < 1 || n > 128 {
			return opsInvalid("OperationalData", "key %q is %d characters, at most 128", k, n)
		}
		if !opsAWSKeys[k] {
			for _, p := range opsReservedKeyPrefixes {
				if strings.HasPrefix(strings.ToLower(k), p) {
					return opsInvalid("OperationalData", "key %q begins with the reserved %q", k, p)
				}
			}
		}
		v, _ := raw.(map[string]any)
		if t := str(v, "Type"); t != "" && t != "String" && t != "SearchableString" {
			return opsInvalid("OperationalData", "key %q: Type %q must be String or SearchableString", k, t)
		}
		if len(str(v, "Value")) > 20<<10 {
			return opsInvalid("OperationalData", "key %q: value of %d bytes exceeds 20 KB", k, len(str(v, "Value")))
		}
	}
	if st := str(in, "Status"); st != "" && !opsStatuses[st] {
		return opsInvalid("Status", "%q must be Open, InProgress or Resolved", st)
	}
	return nil
}

// opsTagPattern is the Tag shape's Key and Value pattern (API
// reference, Tag): ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.
var opsTagPattern = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)

// opsMaxTags is CreateOpsItem's Tags limit: "Array Members: Maximum
// number of 1000 items" (API reference, CreateOpsItem).
const opsMaxTags = 1000

// opsTags checks CreateOpsItem's Tags as the API reference describes
// them — at most 1,000; each a Key (required, 1–128 characters) and a
// Value (required, 0–256 characters), both matching the Tag pattern —
// and returns them, nil when there are none.
func opsTags(in map[string]any) (map[string]string, *APIError) {
	raw, present := in["Tags"]
	if !present {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, opsInvalid("Tags", "must be a list of {Key, Value}")
	}
	if len(list) > opsMaxTags {
		return nil, opsInvalid("Tags", "%d tags, at most %d", len(list), opsMaxTags)
	}
	tags := map[string]string{}
	for i, e := range list {
		tg, _ := e.(map[string]any)
		k, kok := tg["Key"].(string)
		v, vok := tg["Value"].(string)
		if !kok || !vok {
			return nil, opsInvalid("Tags", "tag %d: Key and Value are both required", i+1)
		}
		if n := len([]rune(k)); n < 1 || n > 128 || !opsTagPattern.MatchString(k) {
			return nil, opsInvalid("Tags", "tag %d: Key %q must be 1 to 128 letters, digits, spaces or _.:/=+-@", i+1, k)
		}
		if n := len([]rune(v)); n > 256 || !opsTagPattern.MatchString(v) {
			return nil, opsInvalid("Tags", "tag %d: Value %q must be 0 to 256 letters, digits, spaces or _.:/=+-@", i+1, v)
		}
		tags[k] = v
	}
	return tags, nil
}

func opsData(in map[string]any, into map[string]string) {
	for k, raw := range obj(in, "OperationalData") {
		v, _ := raw.(map[string]any)
		into[k] = str(v, "Value")
	}
}

func ssmCreateOpsItem(s *Server, req *request) (any, error) {
	in := req.input
	if err := opsFields(in, true); err != nil {
		return nil, err
	}
	tags, aerr := opsTags(in)
	if aerr != nil {
		return nil, aerr
	}
	data := map[string]string{}
	opsData(in, data)
	dedup := ""
	if raw, ok := data["/aws/dedup"]; ok {
		var d struct {
			DedupString string `json:"dedupString"`
		}
		if err := json.Unmarshal([]byte(raw), &d); err != nil || d.DedupString == "" {
			return nil, opsInvalid("OperationalData", `/aws/dedup must be {"dedupString":"…"}`)
		}
		dedup = d.DedupString
		for _, it := range opsItems[s] {
			if it.dedup == dedup && (it.Status == "Open" || it.Status == "InProgress") {
				body := encodeJSON(map[string]any{"__type": "OpsItemAlreadyExistsException", "Message": "The OpsItem already exists.", "OpsItemId": it.ID})
				return &rawResponse{status: http.StatusBadRequest, header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}}, body: body}, nil
			}
		}
	}
	p, _ := intField(in, "Priority")
	now := s.now()
	it := &OpsItem{
		ID: fmt.Sprintf("oi-%012x", len(opsItems[s])+1), Title: str(in, "Title"), Description: str(in, "Description"),
		Source: str(in, "Source"), Category: str(in, "Category"), Severity: str(in, "Severity"), Priority: p,
		Status: "Open", OperationalData: data, Tags: tags, Created: now, Modified: now, Version: 1, dedup: dedup,
	}
	opsItems[s] = append(opsItems[s], it)
	return map[string]any{"OpsItemId": it.ID, "OpsItemArn": fmt.Sprintf("arn:aws:ssm:%s:%s:opsitem/%s", Region, AccountID, it.ID)}, nil
}

func findOpsItem(s *Server, id string) (*OpsItem, *APIError) {
	for _, it := range opsItems[s] {
		if it.ID == id {
			return it, nil
		}
	}
	return nil, apiErr(400, "OpsItemNotFoundException", "The specified OpsItem ID doesn't exist: %q", id)
}

func ssmUpdateOpsItem(s *Server, req *request) (any, error) {
	in := req.input
	it, aerr := findOpsItem(s, str(in, "OpsItemId"))
	if aerr != nil {
		return nil, aerr
	}
	if err := opsFields(in, false); err != nil {
		return nil, err
	}
	if _, ok := obj(in, "OperationalData")["/aws/dedup"]; ok {
		return nil, opsInvalid("OperationalData", "the deduplication string of an OpsItem cannot be changed")
	}
	for k, dst := range map[string]*string{"Title": &it.Title, "Description": &it.Description, "Severity": &it.Severity, "Category": &it.Category, "Status": &it.Status} {
		if v := str(in, k); v != "" {
			*dst = v
		}
	}
	if p, ok := intField(in, "Priority"); ok {
		it.Priority = p
	}
	opsData(in, it.OperationalData)
	for _, k := range strList(in, "OperationalDataToDelete") {
		delete(it.OperationalData, k)
	}
	it.Modified = s.now()
	it.Version++
	it.Updates++
	return map[string]any{}, nil
}

func ssmGetOpsItem(s *Server, req *request) (any, error) {
	it, aerr := findOpsItem(s, str(req.input, "OpsItemId"))
	if aerr != nil {
		return nil, aerr
	}
	data := map[string]any{}
	keys := make([]string, 0, len(it.OperationalData))
	for k := range it.OperationalData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		data[k] = map[string]any{"Value": it.OperationalData[k], "Type": "SearchableString"}
	}
	return map[string]any{"OpsItem": map[string]any{
		"OpsItemId": it.ID, "Title": it.Title, "Description": it.Description, "Source": it.Source, "Category": it.Category,
		"Severity": it.Severity, "Priority": it.Priority, "Status": it.Status, "OperationalData": data,
		"CreatedTime": it.Created, "LastModifiedTime": it.Modified, "Version": fmt.Sprint(it.Version),
	}}, nil
}
