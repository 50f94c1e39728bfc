package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
)

// slackChannel posts Block Kit messages to a Slack incoming webhook.
type slackChannel struct {
	ep  endpoint
	err error
	hc  *http.Client
}

// NewSlack returns a Channel posting to the Slack incoming webhook
// webhookURL with hc (a default client when nil). The URL holds a token: it
// never appears in errors or Results.
func NewSlack(webhookURL string, hc *http.Client) Channel {
	ep, err := newEndpoint("slack", webhookURL)
	return &slackChannel{ep: ep, err: err, hc: clientOr(hc)}
}

// Name names the channel.
func (s *slackChannel) Name() string { return "slack" }

func (s *slackChannel) secrets() []string { return s.ep.secrets }

// Send delivers ev once.
func (s *slackChannel) Send(ctx context.Context, ev Event) error {
	if s.err != nil {
		return s.err
	}
	err := slack.PostWebhookCustomHTTPContext(ctx, s.ep.raw, s.hc, SlackMessage(ev))
	var se slack.StatusCodeError
	if errors.As(err, &se) {
		err = &statusError{code: se.Code}
	}
	if err != nil {
		return s.ep.fail("post", err)
	}
	return nil
}

// Check sends a HEAD request, no message: any HTTP answer means reachable.
func (s *slackChannel) Check(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	return s.ep.check(ctx, s.hc, s.ep.raw)
}

var kindTitles = map[string]string{
	KindStarted:   ":rotating_light: Rollback started",
	KindProgress:  ":arrows_counterclockwise: Rollback progress",
	KindSucceeded: ":white_check_mark: Rollback succeeded",
	KindFailed:    ":x: Rollback FAILED",
}

// SlackMessage returns the Block Kit message for ev: a header, a section
// with what/who/why and the event's fields (revisions, status), escalation
// contacts on failure, and a context line with the incident id and report link.
func SlackMessage(ev Event) *slack.WebhookMessage {
	title := kindTitles[ev.Kind]
	if title == "" {
		title = "Rollback " + ev.Kind
	}
	title += ": " + ev.App
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	fields := []*slack.TextBlockObject{md("*What*\n" + orNone(ev.Summary)), md("*Who*\n" + orNone(ev.Actor))}
	if ev.Reason != "" {
		fields = append(fields, md("*Why*\n"+ev.Reason))
	}
	if ev.Step != "" {
		fields = append(fields, md("*Step*\n"+ev.Step))
	}
	for _, f := range ev.Fields {
		fields = append(fields, md("*"+f.Name+"*\n"+orNone(f.Value)))
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(title, 150), true, false))}
	// A section holds at most 10 fields.
	for len(fields) > 0 {
		n := min(len(fields), 10)
		blocks = append(blocks, slack.NewSectionBlock(nil, fields[:n], nil))
		fields = fields[n:]
	}
	if len(ev.Escalation) > 0 && ev.Kind == KindFailed {
		blocks = append(blocks, slack.NewSectionBlock(md("*Escalation*\n• "+strings.Join(ev.Escalation, "\n• ")), nil, nil))
	}
	ctx := "incident `" + ev.Incident + "`"
	if ev.ReportURL != "" {
		ctx += " · report: " + ev.ReportURL
	}
	if !ev.Time.IsZero() {
		ctx += " · " + ev.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	blocks = append(blocks, slack.NewContextBlock("", md(ctx)))
	return &slack.WebhookMessage{
		Text:   fmt.Sprintf("%s (incident %s): %s", title, ev.Incident, ev.Summary),
		Blocks: &slack.Blocks{BlockSet: blocks},
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
