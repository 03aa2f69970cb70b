// Package headers is the `headers` check kind: a passive security
// baseline of one response, like the passive rules of a DAST baseline
// scan. Each sample GETs the URL (following up to 5 redirects, through
// the same client as the http kind: verified TLS, the link-local dial
// guard, 1 MiB body cap) and runs named rules on the final response's
// headers.
//
// # Spec
//
//	checks:
//	  - name: security-headers
//	    headers:
//	      url: https://app.example.com/   # required, http:// or https://
//	      require: [hsts, nosniff, csp]   # rules that must pass (default: every rule not skipped)
//	      skip: [cookie-httponly]         # rules not to run (used when require is empty)
//	      timeout: 5s                     # default 5s
//	      allowLinkLocal: false
//
// When require is given only those rules run; otherwise every rule runs
// except those in skip. An unknown rule name, a rule both required and
// skipped, requiring hsts of an http:// URL, or an expect on a headers
// check is a configuration error.
//
// # Rules
//
//	hsts             Strict-Transport-Security with max-age ≥ 31536000 (one year). https only:
//	                 on a plain-http response it is not applicable (noted, not failed).
//	nosniff          X-Content-Type-Options: nosniff.
//	csp              an enforced Content-Security-Policy (Content-Security-Policy-Report-Only
//	                 alone fails: it enforces nothing). Its content is not graded.
//	frame-options    clickjacking protection: a CSP frame-ancestors directive, or
//	                 X-Frame-Options DENY or SAMEORIGIN (ALLOW-FROM fails: browsers ignore it).
//	server-version   Server carries no version number (nginx passes; nginx/1.25.3 fails;
//	                 so does awselb/2.0, which an ALB sends on responses it makes itself).
//	powered-by       no X-Powered-By, X-AspNet-Version or X-AspNetMvc-Version header at all:
//	                 any value names the stack, and no client needs it.
//	cookie-secure    every Set-Cookie has Secure.
//	cookie-httponly  every Set-Cookie has HttpOnly (skip it for cookies scripts must read,
//	                 e.g. a CSRF token).
//	cookie-samesite  every Set-Cookie has SameSite=Lax or Strict, or None together with Secure.
//
// The cookie rules pass when no cookie is set. Findings name cookies,
// never their values.
//
// # Verdicts
//
// Succeeded: every rule run passed. Failed: the evidence lists each
// failing rule, the header seen and the fix. Inconclusive: the service
// answered 5xx — an error page is not a fair sample of its headers (an
// http check is what should catch the outage); 4xx responses are judged.
// Error: no response (see package httpcheck). Values: status, latency_ms,
// rules_checked, rules_failed.
package headers
