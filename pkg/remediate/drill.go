package remediate

import "github.com/postdeploy/postdeploy/pkg/contract"

// drill reports whether a is an alert drill's state change: its state
// reason, as CloudWatch reports it, is the drill's (contract.IsDrill).
// The engine decides on a drill in dry run whatever the policy says, so a
// drill never acts; a.Reason is CloudWatch's (confirm replaces the
// message's), never what a message claims.
func drill(a Alarm) bool { return contract.IsDrill(a.Reason) }
