package standin

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// This file holds the generic codecs: every protocol's request is decoded
// into a map[string]any (strings, float64/int64, bool, time.Time, []byte,
// []any, map[string]any) and every handler answers with the same kind of
// tree, which the protocol layer encodes on the way out.

// maxBody caps how much of a request body the stand-in reads.
const maxBody = 8 << 20

// decodeJSON decodes a JSON object body; an empty body is an empty object.
func decodeJSON(b []byte) (map[string]any, error) {
	m := map[string]any{}
	if len(strings.TrimSpace(string(b))) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// encodeJSON encodes a response tree for the JSON protocols (awsJson1_0,
// awsJson1_1, restJson1): timestamps as epoch seconds.
func encodeJSON(v any) []byte {
	b, err := json.Marshal(jsonable(v, true))
	if err != nil {
		// Only reachable with a value jsonable cannot represent (NaN is
		// replaced there); answer an empty object rather than panic.
		return []byte("{}")
	}
	return b
}

// jsonable rewrites a tree so encoding/json writes it as the AWS JSON
// protocols do: time.Time as epoch seconds (epoch) or RFC 3339, non-finite
// floats as strings.
func jsonable(v any, epoch bool) any {
	switch t := v.(type) {
	case nil:
		return nil
	case time.Time:
		if epoch {
			return float64(t.UnixMilli()) / 1000
		}
		return t.UTC().Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return strconv.FormatFloat(t, 'g', -1, 64)
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if x == nil {
				continue
			}
			out[k] = jsonable(x, epoch)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonable(x, epoch)
		}
		return out
	case string, bool, int, int32, int64, uint64, []byte:
		return t
	}
	return jsonable(normalize(v), epoch)
}

// normalize turns typed slices and maps (e.g. []string, map[string]string)
// into []any and map[string]any so the encoders see one shape.
func normalize(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if b, ok := v.([]byte); ok {
			return b
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = iter.Value().Interface()
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return rv.Elem().Interface()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return float64(u)
		}
		return int64(u)
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	}
	return fmt.Sprint(v)
}

// decodeCBOR decodes an RPC v2 CBOR request body into a tree.
func decodeCBOR(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("request body is not CBOR: %w", err)
	}
	m, ok := fromCBOR(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("request body is CBOR %T, want a map", v)
	}
	return m, nil
}

func fromCBOR(v cbor.Value) any {
	switch t := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = fromCBOR(x)
		}
		return m
	case cbor.List:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = fromCBOR(x)
		}
		return l
	case cbor.String:
		return string(t)
	case cbor.Slice:
		return []byte(t)
	case cbor.Uint, cbor.NegInt:
		if i, err := cbor.AsInt64(t); err == nil {
			return i
		}
		f, _ := cbor.AsFloat64(t)
		return f
	case cbor.Float32:
		return float64(t)
	case cbor.Float64:
		return float64(t)
	case cbor.Bool:
		return bool(t)
	case *cbor.Tag:
		if t == nil {
			return nil
		}
		if t.ID == 1 {
			if tm, err := cbor.AsTime(t); err == nil {
				return tm
			}
		}
		return fromCBOR(t.Value)
	}
	return nil
}

// encodeCBOR encodes a response tree for RPC v2 CBOR: timestamps as tag 1
// epoch seconds, integers as CBOR integers (the SDK rejects a float where
// the model has an integer), floats as float64.
func encodeCBOR(v any) []byte {
	return cbor.Encode(toCBOR(v))
}

func toCBOR(v any) cbor.Value {
	switch t := v.(type) {
	case nil:
		return &cbor.Nil{}
	case map[string]any:
		m := make(cbor.Map, len(t))
		for k, x := range t {
			if x == nil {
				continue
			}
			m[k] = toCBOR(x)
		}
		return m
	case []any:
		l := make(cbor.List, len(t))
		for i, x := range t {
			l[i] = toCBOR(x)
		}
		return l
	case string:
		return cbor.String(t)
	case []byte:
		return cbor.Slice(t)
	case bool:
		return cbor.Bool(t)
	case int:
		return cborInt(int64(t))
	case int32:
		return cborInt(int64(t))
	case int64:
		return cborInt(t)
	case float64:
		return cbor.Float64(t)
	case time.Time:
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
	}
	return toCBOR(normalize(v))
}

func cborInt(i int64) cbor.Value {
	if i < 0 {
		return cbor.NegInt(uint64(-(i + 1))) //nolint:gosec // i < 0, so -(i+1) is in [0, MaxInt64]
	}
	return cbor.Uint(uint64(i))
}

// decodeForm decodes an awsQuery / ec2Query form into a tree. Dotted keys
// nest; a numeric segment makes a list; the list wrappers "member",
// "entry" and "item" are folded away, so AlarmNames.member.1=x becomes
// {"AlarmNames": ["x"]} and InstanceId.1=i-1 becomes {"InstanceId": ["i-1"]}.
func decodeForm(form url.Values) map[string]any {
	root := &formNode{}
	for key, vals := range form {
		if len(vals) == 0 || key == "" {
			continue
		}
		n := root
		for _, seg := range strings.Split(key, ".") {
			if n.kids == nil {
				n.kids = map[string]*formNode{}
			}
			k, ok := n.kids[seg]
			if !ok {
				k = &formNode{}
				n.kids[seg] = k
			}
			n = k
		}
		n.leaf, n.set = vals[0], true
	}
	m, _ := root.value().(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

type formNode struct {
	leaf string
	set  bool
	kids map[string]*formNode
}

func (n *formNode) value() any {
	if len(n.kids) == 0 {
		return n.leaf
	}
	allNum := true
	for k := range n.kids {
		if _, err := strconv.Atoi(k); err != nil {
			allNum = false
			break
		}
	}
	if allNum {
		idx := make([]int, 0, len(n.kids))
		byIdx := map[int]*formNode{}
		for k, c := range n.kids {
			i, _ := strconv.Atoi(k)
			idx = append(idx, i)
			byIdx[i] = c
		}
		sort.Ints(idx)
		l := make([]any, 0, len(idx))
		for _, i := range idx {
			l = append(l, byIdx[i].value())
		}
		return l
	}
	if len(n.kids) == 1 {
		for k, c := range n.kids {
			if k == "member" || k == "entry" || k == "item" {
				if l, ok := c.value().([]any); ok {
					return l
				}
			}
		}
	}
	m := make(map[string]any, len(n.kids))
	for k, c := range n.kids {
		m[k] = c.value()
	}
	return m
}

// encodeXML writes a tree as the XML the Query protocols answer with:
// lists wrap each element in <member> (awsQuery) or <item> (ec2Query),
// timestamps are ISO 8601.
func encodeXML(sb *strings.Builder, v any, item string) {
	switch t := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if t[k] == nil {
				continue
			}
			sb.WriteString("<" + k + ">")
			encodeXML(sb, t[k], item)
			sb.WriteString("</" + k + ">")
		}
	case []any:
		for _, x := range t {
			sb.WriteString("<" + item + ">")
			encodeXML(sb, x, item)
			sb.WriteString("</" + item + ">")
		}
	case string:
		xmlText(sb, t)
	case time.Time:
		sb.WriteString(t.UTC().Format("2006-01-02T15:04:05.000Z"))
	case bool:
		sb.WriteString(strconv.FormatBool(t))
	case int:
		sb.WriteString(strconv.Itoa(t))
	case int32:
		sb.WriteString(strconv.FormatInt(int64(t), 10))
	case int64:
		sb.WriteString(strconv.FormatInt(t, 10))
	case float64:
		sb.WriteString(strconv.FormatFloat(t, 'g', -1, 64))
	case []byte:
		sb.WriteString(base64.StdEncoding.EncodeToString(t))
	default:
		encodeXML(sb, normalize(v), item)
	}
}

func xmlText(sb *strings.Builder, s string) {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return
	}
	sb.WriteString(b.String())
}

// Accessors over decoded trees. They never panic: a missing or mistyped
// field reads as the zero value.

func str(m map[string]any, k string) string {
	switch t := m[k].(type) {
	case string:
		return t
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(t, 10)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func num(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

func numField(m map[string]any, k string) (float64, bool) { return num(m[k]) }

func intField(m map[string]any, k string) (int, bool) {
	f, ok := num(m[k])
	if !ok || math.IsNaN(f) || f > math.MaxInt32 || f < math.MinInt32 {
		return 0, false
	}
	return int(f), true
}

func boolField(m map[string]any, k string) bool {
	switch t := m[k].(type) {
	case bool:
		return t
	case string:
		return strings.EqualFold(t, "true")
	}
	return false
}

func list(m map[string]any, k string) []any {
	switch t := m[k].(type) {
	case []any:
		return t
	case map[string]any:
		// A Query list whose wrapper was not folded (e.g. a single
		// "member" holding a map) reads as one element.
		return []any{t}
	}
	return nil
}

func strList(m map[string]any, k string) []string {
	var out []string
	for _, v := range list(m, k) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func obj(m map[string]any, k string) map[string]any {
	if t, ok := m[k].(map[string]any); ok {
		return t
	}
	return nil
}

func timeField(m map[string]any, k string) (time.Time, bool) {
	return asTime(m[k])
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return time.Time{}, false
		}
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	case int64:
		return time.Unix(t, 0).UTC(), true
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
			if tm, err := time.Parse(layout, t); err == nil {
				return tm, true
			}
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return asTime(f)
		}
	}
	return time.Time{}, false
}
