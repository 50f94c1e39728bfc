package evidence

import (
	"context"
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/outcome"
)

func TestLogsOfOneRevision(t *testing.T) {
	c := crashRelease()
	c.logs["web-h2-a/app/previous"] = lines("panic: the run before")
	run := func(l Logs) (string, *LogsResult, error) {
		var b strings.Builder
		sink, flush := Prefixed(&b)
		l.Clients = c.clients()
		res, err := l.Run(context.Background(), "web", sink)
		_ = flush()
		return b.String(), res, err
	}
	out, res, err := run(Logs{Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 2 || strings.Join(res.Pods, ",") != "web-h2-a,web-h2-b" || res.Read != 1 || len(res.Unavailable) != 1 {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(out, `[web-h2-a/app] `) || !strings.Contains(out, "panic: sandbox mode crash") || strings.Contains(out, "web-h1") {
		t.Errorf("output:\n%s", out)
	}
	out, res, _ = run(Logs{Revision: 1, Tail: -1})
	if res.Revision != 1 || len(res.Pods) != 3 || !strings.Contains(out, "[web-h1-a/app]") || strings.Contains(out, "web-h2") {
		t.Errorf("revision 1: %+v\n%s", res, out)
	}
	out, _, _ = run(Logs{Previous: true, Tail: -1})
	if !strings.Contains(out, "[web-h2-a/app] panic: the run before") {
		t.Errorf("previous:\n%s", out)
	}
	if _, _, err := run(Logs{Revision: 9}); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "revisions that exist: 1, 2") {
		t.Errorf("unknown revision: %v", err)
	}
	if _, _, err := run(Logs{Container: "nope"}); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "they have app") {
		t.Errorf("unknown container: %v", err)
	}
}
