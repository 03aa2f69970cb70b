package standin

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
)

const (
	lambdaPrefix     = "/2015-03-31/functions/"
	lambdaTagsPrefix = "/2017-03-31/tags/"
)

// routeREST recognises the REST-JSON operations by method and path:
// Lambda GetAlias / UpdateAlias / ListVersionsByFunction / ListTags and
// Inspector2 ListFindings.
func routeREST(r *http.Request, body []byte, req *request) (bool, *APIError) {
	path := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(path, lambdaPrefix):
		req.proto, req.service = ProtoRESTJSON, Lambda
		segs := strings.Split(strings.TrimPrefix(path, lambdaPrefix), "/")
		for i, sg := range segs {
			if u, err := url.PathUnescape(sg); err == nil {
				segs[i] = u
			}
		}
		if len(segs) == 2 && segs[1] == "versions" && r.Method == http.MethodGet {
			req.op, req.input = "ListVersionsByFunction", map[string]any{"FunctionName": segs[0]}
			return true, nil
		}
		if len(segs) == 2 && segs[1] == "invocations" && r.Method == http.MethodPost {
			// Invoke: the payload is the body, kept out of the recorded input.
			req.op, req.body = "Invoke", body
			req.input = map[string]any{"FunctionName": segs[0], "InvocationType": cmp.Or(r.Header.Get("X-Amz-Invocation-Type"), "RequestResponse")}
			return true, nil
		}
		if len(segs) != 3 || segs[1] != "aliases" {
			req.op = r.Method + " " + r.URL.Path
			return true, apiErr(404, "UnknownOperationException", "the stand-in serves only Lambda GetAlias, UpdateAlias, ListVersionsByFunction, ListTags and Invoke, not %s %s", r.Method, r.URL.Path)
		}
		in, err := decodeJSON(body)
		if err != nil {
			req.op = "UpdateAlias"
			return true, apiErr(400, "InvalidRequestContentException", "%v", err)
		}
		in["FunctionName"], in["Name"] = segs[0], segs[2]
		req.input = in
		switch r.Method {
		case http.MethodGet:
			req.op = "GetAlias"
		case http.MethodPut:
			req.op = "UpdateAlias"
		default:
			req.op = r.Method + "Alias"
		}
		return true, nil
	case strings.HasPrefix(path, lambdaTagsPrefix):
		req.proto, req.service, req.op = ProtoRESTJSON, Lambda, "ListTags"
		res := strings.TrimPrefix(path, lambdaTagsPrefix)
		if u, err := url.PathUnescape(res); err == nil {
			res = u
		}
		req.input = map[string]any{"Resource": res}
		if r.Method != http.MethodGet {
			req.op = r.Method + " tags"
			return true, apiErr(404, "UnknownOperationException", "the stand-in serves only Lambda ListTags on /2017-03-31/tags, not %s", r.Method)
		}
		return true, nil
	case path == "/findings/list":
		req.proto, req.service, req.op = ProtoRESTJSON, Inspector2, "ListFindings"
		in, err := decodeJSON(body)
		if err != nil {
			return true, apiErr(400, "ValidationException", "%v", err)
		}
		req.input = in
		return true, nil
	}
	return false, nil
}
