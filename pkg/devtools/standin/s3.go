package standin

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// routeS3 reads a path-style S3 request: /bucket/key.
func routeS3(r *http.Request, body []byte, req *request) (*request, *APIError) {
	req.proto, req.service = ProtoRESTXML, S3
	p := r.URL.EscapedPath()
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ := strings.Cut(p, "/")
	if k, err := url.PathUnescape(key); err == nil {
		key = k
	}
	switch r.Method {
	case http.MethodGet:
		req.op = "GetObject"
	case http.MethodHead:
		req.op = "HeadObject"
	case http.MethodPut:
		req.op = "PutObject"
	default:
		req.op = r.Method
	}
	if bucket == "" || key == "" {
		return req, apiErr(400, "InvalidRequest", "the stand-in serves S3 objects path-style only (/bucket/key); set UsePathStyle on the S3 client; got path %q", r.URL.Path)
	}
	req.input = map[string]any{"Bucket": bucket, "Key": key}
	if req.op == "PutObject" {
		req.input["ContentLength"] = len(body)
		req.input["ContentType"] = r.Header.Get("Content-Type")
		req.body = body
	}
	return req, nil
}

func s3GetObject(s *Server, req *request) (any, error) {
	bucket, key := str(req.input, "Bucket"), str(req.input, "Key")
	o, ok := s.st.objects[bucket+"/"+key]
	if !ok {
		code, status := "NoSuchKey", http.StatusNotFound
		if !s.st.hasBucket(bucket) {
			code = "NoSuchBucket"
		}
		if req.op == "HeadObject" {
			code = "NotFound"
		}
		return nil, apiErr(status, code, "The specified key does not exist: s3://%s/%s", bucket, key)
	}
	h := http.Header{}
	h.Set("Content-Type", o.contentType)
	h.Set("Content-Length", strconv.Itoa(len(o.body)))
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
	if strings.EqualFold(req.http.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// The SDK validates this against the bytes it reads.
		var crc [4]byte
		binary.BigEndian.PutUint32(crc[:], crc32.ChecksumIEEE(o.body))
		h.Set("X-Amz-Checksum-Crc32", base64.StdEncoding.EncodeToString(crc[:]))
	}
	return &rawResponse{status: http.StatusOK, header: h, body: o.body}, nil
}

func s3PutObject(s *Server, req *request) (any, error) {
	bucket, key := str(req.input, "Bucket"), str(req.input, "Key")
	s.st.putObject(bucket, key, req.body, str(req.input, "ContentType"), s.now())
	h := http.Header{}
	h.Set("ETag", s.st.objects[bucket+"/"+key].etag)
	return &rawResponse{status: http.StatusOK, header: h}, nil
}

func (st *state) hasBucket(b string) bool {
	for k := range st.objects {
		if strings.HasPrefix(k, b+"/") {
			return true
		}
	}
	return false
}
