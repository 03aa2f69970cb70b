// Package state is the suite's DynamoDB state table: one table, string
// partition key "pk" and sort key "sk", and a TTL attribute "expiresAt"
// (epoch seconds) so DynamoDB deletes what is no longer needed. Every write
// that decides something (who acts, whether a limit allows one more) is a
// conditional write, so at-least-once delivery and concurrent invocations
// cannot act twice.
//
// Key layout (pk / sk → what):
//
//	<key>                     / "claim"     a claim (Claim): idempotency keys, cooldowns;
//	                                        attrs map "attrs", expiresAt = claim end
//	"count#"<key>"#"<window>  / "counter"   a fixed-window counter (Take): number "n";
//	                                        <window> is the window's start, epoch seconds;
//	                                        expiresAt = window end + one window
//	"incident#"<id>           / "incident"  an incident (OpenIncident, CloseIncident):
//	                                        status open|closed, openedAt, closedAt,
//	                                        attempts, escalated, attrs
//	"audit#"<stream>          / <RFC 3339 nano time>"#"<random>
//	                                        one audit record (Audit), attrs map "attrs";
//	                                        Query by pk lists a stream in time order
//
// Callers choose <key>, <id> and <stream>; remediate uses for example
// "delivery#<alarm ARN>#<state change time>#<state>" for idempotency,
// "cooldown#<rule>#<resource>" for cooldowns, "rate#rule#<rule>" and
// "rate#global" for rate limits, the alarm ARN as incident id and as
// audit stream. Items are small; nothing is scanned.
//
// The table the CDK stack creates (and CreateTable creates for tests and
// the demo): pk (S) hash key, sk (S) range key, on-demand billing, TTL
// on expiresAt.
package state
