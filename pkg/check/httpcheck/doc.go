// Package httpcheck is the `http` check kind: it probes URLs of the fresh
// deployment and judges each response by its status, its latency and an
// expect expression. It also provides the HTTP client the `headers` kind
// shares (Client, Request, Response, SampleAll, Explain).
//
// # Spec
//
//	checks:
//	  - name: api-health
//	    http:
//	      url: https://api.example.com/health   # required, http:// or https://
//	      method: GET          # GET (default), HEAD, POST, PUT, PATCH, DELETE, OPTIONS
//	      headers: {X-Canary: "true"}   # a "Host" entry sets the Host header
//	      body: '{"ping":true}'
//	      timeout: 3s          # per attempt, body included (default 5s)
//	      retries: 2           # more attempts after a connection error or 5xx, within one sample (default 0, at most 10)
//	      status: [200, 204]   # accepted statuses (default: any 2xx)
//	      maxLatency: 500ms    # a slower response fails
//	      maxRedirects: 5      # default 5; -1 follows none (the 3xx is judged)
//	      allowLinkLocal: false
//	    expect: 'status == 200 && latency < duration("500ms") && json?.status == "UP"'
//
// # Expect
//
// expect is an expr-lang expression (https://expr-lang.org) that must be
// true. It is compiled when the spec is loaded, so a typo is a
// configuration error at checks[i].expect. It sees:
//
//	status   int                 the response status
//	headers  map[string]string   first value of each header, canonical names: headers["Content-Type"];
//	                             "" when absent
//	body     string              the body, at most 1 MiB
//	json     any                 the body decoded as JSON (objects, arrays, float64 numbers, …),
//	                             nil when the body is not JSON or was cut at 1 MiB
//	latency  duration            response time: latency < duration("500ms")
//
// Use json?.field where the field may be missing: json.field on a non-JSON
// body is an evaluation error, which fails the sample.
//
// An expression's work is bounded (package expect): by the check's timeout
// and the sample's deadline, and by expect.MaxBytes of text it may build.
// One that does not finish in time is that sample's Error, "expect
// expression did not finish within …".
//
// # Verdicts
//
// Succeeded: the status is accepted, latency is within maxLatency and
// expect is true. Failed: the service answered, wrongly — another status,
// too slow, expect false or not evaluable, or still redirecting after
// maxRedirects. Error: no answer — connection refused, timeout, DNS,
// TLS verification, or an address the dial guard refuses — or an expect
// expression stopped by its time or text bound. Each result
// carries Values status, latency_ms and attempts.
//
// # Safety
//
// Certificates are verified (against the system roots, or
// Options.RootCAs). Bodies are read up to 1 MiB. The dial guard refuses,
// on the resolved address of every connection — so neither a DNS name, a
// numeric spelling (127.1, [::ffff:127.0.0.1]) nor a redirect gets around
// it, and no packet is sent:
//
//   - the function's own host, always: the unspecified addresses
//     (0.0.0.0/8, ::, [::ffff:0.0.0.0]), IPv4-compatible ::/96, every
//     address of the host's interfaces, and the Lambda Runtime API
//     (AWS_LAMBDA_RUNTIME_API) on any local address;
//   - loopback (127.0.0.0/8, ::1), unless Options.AllowLoopback: the local
//     harness's opt-in (POSTDEPLOY_LOCAL_PROBES=loopback, read where the
//     clients are built), which no spec can set;
//   - link-local and instance-metadata addresses — 169.254.0.0/16 (EC2
//     and ECS metadata), fd00:ec2::254 and fe80::/10 — unless the check
//     sets allowLinkLocal.
//
// Environment proxies (HTTP_PROXY) are not used, since a proxy would
// connect on the probe's behalf out of the guard's sight.
//
// # Concurrency
//
// One sample sends every probe at once, at most Options.Concurrency (128)
// in flight, and honors the context's deadline: a probe cut short by it
// ends in Error. The sampler's transport keeps connections
// alive between samples.
package httpcheck
