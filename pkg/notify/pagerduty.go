package notify

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/vibestack/rollback/pkg/runbook"
)

// pagerDutyChannel sends PagerDuty Events API v2 events: trigger when a
// rollback starts or fails, resolve when it succeeds; the dedup key is the
// incident id, so they form one PagerDuty incident.
type pagerDutyChannel struct {
	ep     endpoint
	err    error
	key    string
	client *pagerduty.Client
	hc     *http.Client
}

// NewPagerDuty returns a Channel sending Events API v2 events with
// routingKey to eventsURL (runbook.DefaultPagerDutyEventsURL when empty)
// with hc (a default client when nil). Progress events are not sent.
func NewPagerDuty(routingKey, eventsURL string, hc *http.Client) Channel {
	if eventsURL == "" {
		eventsURL = runbook.DefaultPagerDutyEventsURL
	}
	hc = clientOr(hc)
	ep, err := newEndpoint("pagerduty", eventsURL)
	ep.secrets = []string{routingKey} // the events URL is not secret; the key is
	if err == nil && routingKey == "" {
		err = errors.New("pagerduty: empty routing key: set the environment variable named by notifications.pagerduty.routingKeyFromEnv")
	}
	// The client appends /v2/enqueue to its endpoint.
	base := strings.TrimSuffix(strings.TrimRight(eventsURL, "/"), "/v2/enqueue")
	c := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(base))
	c.HTTPClient = hc
	return &pagerDutyChannel{ep: ep, err: err, key: routingKey, client: c, hc: hc}
}

// Name names the channel.
func (p *pagerDutyChannel) Name() string { return "pagerduty" }

func (p *pagerDutyChannel) secrets() []string { return p.ep.secrets }

// Wants reports whether p sends events of kind: not progress.
func (p *pagerDutyChannel) Wants(kind string) bool { return kind != KindProgress }

// Send delivers ev once.
func (p *pagerDutyChannel) Send(ctx context.Context, ev Event) error {
	if p.err != nil {
		return p.err
	}
	_, err := p.client.ManageEventWithContext(ctx, PagerDutyEvent(p.key, ev))
	var ae pagerduty.APIError
	if errors.As(err, &ae) {
		err = &statusError{code: ae.StatusCode}
	}
	if err != nil {
		return p.ep.fail("send event", err)
	}
	return nil
}

// Check sends a HEAD request, no message: any HTTP answer means reachable.
func (p *pagerDutyChannel) Check(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	return p.ep.check(ctx, p.hc, p.ep.raw)
}

// PagerDutyEvent returns the Events API v2 event for ev: "resolve" when the
// rollback succeeded, "trigger" otherwise (critical when it failed, warning
// when it started), deduplicated by the incident id.
func PagerDutyEvent(routingKey string, ev Event) *pagerduty.V2Event {
	action, severity := "trigger", "warning"
	switch ev.Kind {
	case KindSucceeded:
		action = "resolve"
		severity = "info"
	case KindFailed:
		severity = "critical"
	}
	details := map[string]any{"incident": ev.Incident, "kind": ev.Kind}
	if ev.Actor != "" {
		details["actor"] = ev.Actor
	}
	if ev.Reason != "" {
		details["reason"] = ev.Reason
	}
	if ev.Step != "" {
		details["step"] = ev.Step
	}
	for _, f := range ev.Fields {
		details[f.Name] = f.Value
	}
	if len(ev.Escalation) > 0 {
		details["escalation"] = ev.Escalation
	}
	if ev.ReportURL != "" {
		details["report"] = ev.ReportURL
	}
	e := &pagerduty.V2Event{
		RoutingKey: routingKey,
		Action:     action,
		DedupKey:   ev.Incident,
		Client:     "rollback",
		Payload: &pagerduty.V2Payload{
			Summary:   truncate("rollback "+ev.Kind+": "+ev.App+": "+ev.Summary, 1024),
			Source:    "rollback/" + ev.App,
			Severity:  severity,
			Component: ev.App,
			Class:     "rollback",
			Details:   details,
		},
	}
	if !ev.Time.IsZero() {
		e.Payload.Timestamp = ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return e
}
