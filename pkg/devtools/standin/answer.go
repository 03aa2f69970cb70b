package standin

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// This file encodes answers, successes and AWS errors, for the wire
// protocol the request arrived on.

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// writeOutput encodes a handler's answer for the request's protocol.
func writeOutput(w http.ResponseWriter, req *request, out any) {
	rid := requestID()
	w.Header().Set("X-Amzn-Requestid", rid)
	if raw, ok := out.(*rawResponse); ok {
		for k, vs := range raw.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.Header().Set("X-Amz-Request-Id", rid)
		status := raw.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if req.http.Method != http.MethodHead {
			_, _ = w.Write(raw.body)
		}
		return
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	switch req.proto {
	case ProtoJSON10, ProtoJSON11:
		ct := "application/x-amz-json-1.1"
		if req.proto == ProtoJSON10 {
			ct = "application/x-amz-json-1.0"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(encodeJSON(m))
	case ProtoRESTJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(encodeJSON(m))
	case ProtoCBOR:
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		_, _ = w.Write(encodeCBOR(m))
	case ProtoQuery:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		sb.WriteString("<" + req.op + "Response>")
		sb.WriteString("<" + req.op + "Result>")
		encodeXML(&sb, m, "member")
		sb.WriteString("</" + req.op + "Result>")
		sb.WriteString("<ResponseMetadata><RequestId>" + rid + "</RequestId></ResponseMetadata>")
		sb.WriteString("</" + req.op + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	case ProtoEC2Query:
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
		sb.WriteString("<" + req.op + `Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`)
		sb.WriteString("<requestId>" + rid + "</requestId>")
		encodeXML(&sb, m, "item")
		sb.WriteString("</" + req.op + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	default:
		w.Header().Set("Content-Type", "application/xml")
		var sb strings.Builder
		encodeXML(&sb, m, "member")
		_, _ = io.Copy(w, strings.NewReader(sb.String()))
	}
}

// rawResponse is a handler answer written as is (S3 object bodies).
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// APIError is an AWS error answer: the code the SDK maps to its typed
// error, a message, and the HTTP status.
type APIError struct {
	Code    string
	Message string
	Status  int
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// cloudWatchNamespace prefixes CBOR error types, as the service does.
const cloudWatchNamespace = "com.amazonaws.cloudwatch#"

// writeError encodes an error exactly as the request's protocol expects,
// so the SDK builds its typed error.
func writeError(w http.ResponseWriter, req *request, e *APIError) {
	rid := requestID()
	status := e.Status
	if status == 0 {
		status = 400
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", rid)
	switch req.proto {
	case ProtoJSON10, ProtoJSON11, "":
		ct := "application/x-amz-json-1.1"
		if req.proto == ProtoJSON10 {
			ct = "application/x-amz-json-1.0"
		}
		h.Set("Content-Type", ct)
		h.Set("X-Amzn-Errortype", e.Code)
		if req.service == CloudWatch {
			h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		}
		w.WriteHeader(status)
		_, _ = w.Write(encodeJSON(map[string]any{"__type": e.Code, "message": e.Message}))
	case ProtoRESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Errortype", e.Code)
		w.WriteHeader(status)
		_, _ = w.Write(encodeJSON(map[string]any{"message": e.Message}))
	case ProtoCBOR:
		h.Set("Content-Type", "application/cbor")
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("X-Amzn-Query-Error", e.Code+";"+fault)
		w.WriteHeader(status)
		_, _ = w.Write(encodeCBOR(map[string]any{"__type": cloudWatchNamespace + e.Code, "message": e.Message}))
	case ProtoQuery:
		body := errorXML("<ErrorResponse><Error><Type>"+fault+"</Type>", e, "</Error><RequestId>"+rid+"</RequestId></ErrorResponse>")
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	case ProtoEC2Query:
		body := errorXML("<Response><Errors><Error>", e, "</Error></Errors><RequestID>"+rid+"</RequestID></Response>")
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	default: // REST-XML (S3)
		body := errorXML("<Error>", e, "<RequestId>"+rid+"</RequestId></Error>")
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", rid)
		w.WriteHeader(status)
		if req.http == nil || req.http.Method != http.MethodHead {
			_, _ = io.WriteString(w, body)
		}
	}
}

// errorXML is an XML error document: the XML declaration, head, e's
// <Code> and <Message> (escaped), then tail.
func errorXML(head string, e *APIError, tail string) string {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + head + "<Code>")
	xmlText(&sb, e.Code)
	sb.WriteString("</Code><Message>")
	xmlText(&sb, e.Message)
	sb.WriteString("</Message>" + tail)
	return sb.String()
}
