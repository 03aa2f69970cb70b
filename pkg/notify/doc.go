// Package notify turns what the suite saw or did into a message a person
// can act on and publishes it to the SNS topic for its kind of alert, with
// message attributes that subscription filter policies can match.
//
// An Alert holds what a person needs at 3 a.m. — what happened, where,
// why it matters, the evidence, first diagnostic steps, escalation,
// remediation and the runbook link (Apply fills the last four from
// Runbooks). Alert.Message renders it; Router.Send publishes it to the
// kind's topic as plain text or, with FormatChatbot, as an AWS Chatbot
// custom notification that Slack and Teams render as a card. Message
// attributes kind, severity, service and priority let subscription
// filter policies pick what each subscriber receives.
//
// Text from events is data: every value an Alert holds is neutralised
// when it is rendered (neutral.go) — Chat for the Chatbot card, Plain for
// the text body, Subject for the SNS subject — so finding titles,
// resource names or alarm reasons cannot mention a channel, forge a link
// or start a line of their own.
package notify
