package preflight

import (
	"context"
	"os"

	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/runbook"
)

func getenv(k string) string { return os.Getenv(k) }

// channelSetting is one notification channel of the runbook and the
// environment variables it needs.
type channelSetting struct {
	name string
	// env are the variables that must be set; optional ones are checked only when named.
	env []string
	// urlEnv holds a URL whose host is shown.
	urlEnv string
	// url is a URL written in the runbook whose host is shown.
	url string
}

func (o *Options) channelSettings() []channelSetting {
	n := o.Runbook.Notifications
	var out []channelSetting
	if n.Slack != nil {
		out = append(out, channelSetting{name: "slack", env: []string{n.Slack.WebhookURLFromEnv}, urlEnv: n.Slack.WebhookURLFromEnv})
	}
	if n.Webhook != nil {
		env := []string{n.Webhook.URLFromEnv}
		if n.Webhook.HMACSecretFromEnv != "" {
			env = append(env, n.Webhook.HMACSecretFromEnv)
		}
		out = append(out, channelSetting{name: "webhook", env: env, urlEnv: n.Webhook.URLFromEnv})
	}
	if n.PagerDuty != nil {
		u := n.PagerDuty.EventsURL
		if u == "" {
			u = runbook.DefaultPagerDutyEventsURL
		}
		out = append(out, channelSetting{name: "pagerduty", env: []string{n.PagerDuty.RoutingKeyFromEnv}, url: u})
	}
	return out
}

// notificationJobs checks each channel of the runbook: its environment
// variables set (else fail: people would not be told), and reachable with
// Channel.Check (else warn: a failed notification never blocks a rollback).
func (o *Options) notificationJobs() []job {
	settings := o.channelSettings()
	if len(settings) == 0 {
		return []job{func(context.Context) []Check {
			return []Check{{Group: GroupNotifications, Name: "channels", Status: Warn,
				Detail: "no notification channel in the runbook",
				Fix:    "tell the stakeholders by hand (incident channel), or add notifications to the runbook"}}
		}}
	}
	byName := map[string]notify.Channel{}
	for _, c := range o.Channels {
		byName[c.Name()] = c
	}
	var jobs []job
	for _, s := range settings {
		jobs = append(jobs, func(ctx context.Context) []Check {
			ch := Check{Group: GroupNotifications, Name: s.name}
			for _, e := range s.env {
				if o.Getenv(e) == "" {
					ch.Status = Fail
					ch.Detail = "environment variable " + e + " is not set: nobody would be told about the rollback"
					ch.Fix = "export " + e + " (from your secret manager), or remove " + s.name + " from the runbook's notifications"
					return []Check{ch}
				}
			}
			where := s.name
			switch {
			case s.urlEnv != "":
				where = redact.Host(o.Getenv(s.urlEnv))
			case s.url != "":
				where = redact.Host(s.url)
			}
			c := byName[s.name]
			if c == nil {
				ch.Status, ch.Detail = Warn, "configured ("+where+"); reachability not checked"
				return []Check{ch}
			}
			if err := c.Check(ctx); err != nil {
				ch.Status = Warn
				ch.Detail = where + " unreachable: " + err.Error()
				ch.Fix = "notifications will be retried in the background and recorded as failed: tell people by hand if it stays down"
				return []Check{ch}
			}
			ch.Status, ch.Detail = OK, "configured and reachable ("+where+")"
			return []Check{ch}
		})
	}
	return jobs
}
