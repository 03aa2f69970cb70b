package remediate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/postdeploy/postdeploy/pkg/awsclient"
)

// Alarms of member accounts reach remediate through the central
// EventBridge bus, not through SNS: each member account's stack forwards
// its "CloudWatch Alarm State Change" events to the central bus (an
// EventBridge rule whose target is another account's bus, in any region),
// and one rule on that bus invokes remediate. Why the bus and not
// cross-account SNS subscriptions:
//   - one resource policy admits every member (aws:PrincipalOrgID), where
//     SNS would need, per member topic, a topic policy allowing the
//     central function to subscribe and a Lambda permission for that
//     topic's ARN in the central account — which a StackSet deploying to
//     member accounts cannot add;
//   - EventBridge delivers across regions as well as accounts
//     (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html,
//     eb-cross-region.html), and the event's account and region are set by
//     EventBridge, not by the sender;
//   - respond hears the same bus, so one forwarding rule serves both.
// Either way the message only says which alarm to look at: the engine reads
// it from CloudWatch in the alarm's own account, through the member role.

// AccountsPolicy is the policy's accounts section: the member accounts
// (and regions) whose alarms remediate acts on, and the role it assumes in
// each.
type AccountsPolicy struct {
	// Allow lists the member account ids (12 digits) whose alarms may be
	// acted on. An alarm of any other account is refused with a reason.
	Allow []string `json:"allow"`
	// Regions, when set, are the only regions whose alarms may be acted
	// on (the function's own region always may).
	Regions []string `json:"regions,omitempty"`
	// RoleName is the role assumed in the alarm's account
	// (arn:<partition>:iam::<alarm's account>:role/<RoleName>); default
	// DefaultMemberRoleName, the role the postdeploy member stack creates,
	// which trusts only this function's role and may mutate only resources
	// carrying the opt-in tag.
	RoleName string `json:"roleName,omitempty"`
}

// DefaultMemberRoleName is the role remediate assumes in a member account
// when the policy names none.
const DefaultMemberRoleName = "postdeploy-remediate"

// SessionPrefix starts the RoleSessionName of remediate's role sessions;
// the alarm's account and name follow, so CloudTrail in the member
// account ties every call to the alarm that caused it.
const SessionPrefix = "postdeploy-remediate"

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	// roleNamePattern is IAM's RoleName: 1–64 of [\w+=,.@-].
	roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

func (ap *AccountsPolicy) validate(errs *Errors) {
	if ap == nil {
		return
	}
	if len(ap.Allow) == 0 {
		errs.add("accounts.allow", "required: list the member account ids (12 digits) whose alarms may be acted on")
	}
	for i, id := range ap.Allow {
		if !accountIDPattern.MatchString(id) {
			errs.add(fmt.Sprintf("accounts.allow[%d]", i), "%q is not an AWS account id (12 digits)", id)
		}
	}
	for i, r := range ap.Regions {
		if !regionPattern.MatchString(r) {
			errs.add(fmt.Sprintf("accounts.regions[%d]", i), "%q is not an AWS Region code (e.g. eu-west-1)", r)
		}
	}
	if ap.RoleName != "" && !roleNamePattern.MatchString(ap.RoleName) {
		errs.add("accounts.roleName", "%q is not an IAM role name (1–64 letters, digits or _+=,.@-)", ap.RoleName)
	}
}

func (ap *AccountsPolicy) roleName() string {
	if ap.RoleName == "" {
		return DefaultMemberRoleName
	}
	return ap.RoleName
}

// Members lets the engine act on the alarms of the policy's member
// accounts and of other regions. Without it (nil) an alarm of another
// account or region is refused, as before.
type Members struct {
	// Account is the function's own account id.
	Account string
	// STS assumes the member role (one client, built at cold start).
	STS awsclient.AssumeRoleAPI
	// AWS is the function's configuration; a member's clients are built
	// from a copy with the member's region, the assumed role's cached
	// credentials and the refusal middleware.
	AWS aws.Config
	// NewAlarms and NewClients build a member's clients (main passes
	// cloudwatch.NewFromConfig with its protocol option, and NewClients).
	NewAlarms  func(aws.Config) AlarmAPI
	NewClients func(aws.Config, Notifier) Clients
}

// member routes an alarm that is not of the function's own account and
// region. It returns:
//   - nil, false, nil for an alarm of the function's own account and region
//     (or when Members is not configured): the engine handles it as ever;
//   - an engine scoped to the alarm's account and region — its CloudWatch
//     and every action's clients working through the member role's
//     credentials — which then makes every confirmation it makes at home
//     (DescribeAlarms there, the opt-in tag read there);
//   - stop with out set when the alarm is refused: an account not on the
//     policy's allow-list, a region not on it, a role that cannot be
//     assumed or a region not enabled — audited and notified, with the
//     account, the role and the fix; nothing is acted on;
//   - err when STS could not be reached (throttling, an outage): nothing
//     was decided, so Lambda's retry handles the delivery.
func (e *Engine) member(ctx context.Context, a Alarm) (m *Engine, out Outcome, stop bool, err error) {
	mb := e.Members
	if mb == nil || mb.Account == "" || (a.AccountID == mb.Account && (e.Region == "" || a.Region == e.Region)) {
		return nil, Outcome{}, false, nil
	}
	pol := e.Policy.Accounts
	if a.AccountID != mb.Account && (pol == nil || !slices.Contains(pol.Allow, a.AccountID)) {
		listed := "the policy lists no member accounts"
		if pol != nil {
			listed = "accounts.allow is " + strings.Join(pol.Allow, ", ")
		}
		reason := fmt.Sprintf("alarm %s is in account %s, which is not on the policy's accounts.allow list (%s): remediate acts only on its own account's (%s) alarms and those of listed member accounts; to act on it, add the account to accounts.allow and deploy the postdeploy member stack there",
			a.Name, a.AccountID, listed, mb.Account)
		out, err := e.refuseOnce(ctx, a, reason)
		return nil, out, true, err
	}
	if pol == nil {
		// The home account in another region, and no accounts section:
		// refused by confirmed as before.
		return nil, Outcome{}, false, nil
	}
	if len(pol.Regions) > 0 && a.Region != e.Region && !slices.Contains(pol.Regions, a.Region) {
		reason := fmt.Sprintf("alarm %s is in region %s of account %s, which is not on the policy's accounts.regions list (%s): add the region to act on its alarms",
			a.Name, a.Region, a.AccountID, strings.Join(pol.Regions, ", "))
		out, err := e.refuseOnce(ctx, a, reason)
		return nil, out, true, err
	}
	t := awsclient.Target{Region: a.Region}
	if a.AccountID != mb.Account {
		t.RoleARN = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition(a.ARN), a.AccountID, pol.roleName())
	}
	as := awsclient.NewAssumer(mb.STS, awsclient.SessionName(SessionPrefix, a.AccountID+"-"+a.Name))
	if err := as.Check(ctx, t); err != nil {
		var ae *awsclient.AssumeError
		if errors.As(err, &ae) && ae.Kind != awsclient.RefusedTransient {
			out, err := e.refuseOnce(ctx, a, "nothing was acted on: "+err.Error())
			return nil, out, true, err
		}
		return nil, Outcome{}, false, fmt.Errorf("assume %s for alarm %s: %w", t.RoleARN, a.Name, err)
	}
	cfg := mb.AWS.Copy()
	cfg.Region = a.Region
	if p := as.Credentials(t); p != nil {
		cfg.Credentials = p
	}
	// A fresh slice: the function's own APIOptions are shared by every alarm.
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), as.Scope(t))
	scoped := *e
	scoped.Members = nil // it is at home there
	scoped.Region = a.Region
	scoped.Alarms = mb.NewAlarms(cfg)
	scoped.Actions = Actions(mb.NewClients(cfg, e.Notify))
	e.Log.InfoContext(ctx, "alarm of another account or region: acting through its account's role", "alarm", a.Name, "account", a.AccountID, "region", a.Region, "roleArn", t.RoleARN, "session", as.SessionName())
	return &scoped, Outcome{}, false, nil
}

// refuseOnce refuses a state change of another account or region once:
// the state change is claimed first, as Handle claims every other, so a
// duplicate delivery is a Duplicate, not a second notification.
func (e *Engine) refuseOnce(ctx context.Context, a Alarm, reason string) (Outcome, error) {
	claimed, err := e.Store.Claim(ctx, deliveryKey(a), e.DeliveryTTL, map[string]string{"alarm": a.Name, "state": a.NewState})
	if err != nil {
		return Outcome{Alarm: a.Name, State: a.NewState}, fmt.Errorf("claim state change of alarm %s: %w", a.Name, err)
	}
	if !claimed {
		return Outcome{Alarm: a.Name, State: a.NewState, Decision: Duplicate, Reason: "this state change was already handled"}, nil
	}
	return e.refuse(ctx, a, nil, reason, true), nil
}

// NewMembers returns the Members of a function in account home (nil when
// home is unknown: member accounts are then refused as before), building a
// member's CloudWatch client with newAlarms and its actions' clients with
// NewClients.
func NewMembers(home string, cfg aws.Config, stsAPI awsclient.AssumeRoleAPI, newAlarms func(aws.Config) AlarmAPI) *Members {
	if home == "" {
		return nil
	}
	return &Members{Account: home, STS: stsAPI, AWS: cfg, NewAlarms: newAlarms, NewClients: NewClients}
}
