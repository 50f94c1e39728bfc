package promquery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ptr(v float64) *float64 { return &v }

// promServer answers /api/v1/query with body and records the last query.
func promServer(t *testing.T, status int, body string, last *string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil && last != nil {
			*last = r.Form.Get("query")
		}
		if status == -1 {
			time.Sleep(300 * time.Millisecond)
			status = 200
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

const (
	vecOne   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.31"]}]}}`
	vecLow   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.01"]}]}}`
	vecEmpty = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	vecNaN   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"NaN"]}]}}`
	vecInf   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"+Inf"]}]}}`
	vecTwo   = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1700000000,"1"]},{"metric":{"a":"2"},"value":[1700000000,"2"]}]}}`
	scalar   = `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"7"]}}`
	badData  = `{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}`
)

func TestEvaluate(t *testing.T) {
	vars := map[string]string{"namespace": "shop", "deployment": "web", "label_app": "web"}
	tests := []struct {
		name    string
		status  int
		body    string
		chk     Check
		want    Outcome
		detail  string
		value   float64
		sentQry string
	}{
		{name: "breach max", status: 200, body: vecOne, chk: Check{Query: `sum(rate(x{namespace="{{.namespace}}"}[1m]))`, Max: ptr(0.05)},
			want: Fail, detail: "0.31 > max 0.05", value: 0.31, sentQry: `sum(rate(x{namespace="shop"}[1m]))`},
		{name: "within max", status: 200, body: vecLow, chk: Check{Query: "q", Max: ptr(0.05)}, want: Pass, value: 0.01},
		{name: "below min", status: 200, body: vecLow, chk: Check{Query: "q", Min: ptr(0.5)}, want: Fail, detail: "0.01 < min 0.5"},
		{name: "scalar", status: 200, body: scalar, chk: Check{Query: "q", Min: ptr(1)}, want: Pass, value: 7},
		{name: "empty vector", status: 200, body: vecEmpty, chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "no data"},
		{name: "NaN", status: 200, body: vecNaN, chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "NaN"},
		{name: "Inf", status: 200, body: vecInf, chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "+Inf"},
		{name: "two series", status: 200, body: vecTwo, chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "2 series; aggregate with sum()"},
		{name: "bad query", status: 400, body: badData, chk: Check{Query: "sum(", Max: ptr(1)}, want: Inconclusive, detail: "rejected the query"},
		{name: "http 503", status: 503, body: "down", chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "prometheus 127.0.0.1"},
		{name: "missing var", status: 200, body: vecOne, chk: Check{Query: "x{a=\"{{.label_team}}\"}", Max: ptr(1)}, want: Inconclusive, detail: "query template"},
		{name: "no threshold", status: 200, body: vecOne, chk: Check{Query: "q"}, want: Inconclusive, detail: "no threshold"},
		{name: "slow server", status: -1, body: vecLow, chk: Check{Query: "q", Max: ptr(1)}, want: Inconclusive, detail: "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent string
			srv := promServer(t, tt.status, tt.body, &sent)
			c, err := New(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Timeout = 100 * time.Millisecond
			s := c.Evaluate(context.Background(), tt.chk, vars)
			if s.Outcome != tt.want || !strings.Contains(s.Detail, tt.detail) {
				t.Fatalf("got %s %q, want %s containing %q", s.Outcome, s.Detail, tt.want, tt.detail)
			}
			if tt.value != 0 && s.Value != tt.value {
				t.Errorf("value %v, want %v", s.Value, tt.value)
			}
			if tt.sentQry != "" && (sent != tt.sentQry || s.Query != tt.sentQry) {
				t.Errorf("sent %q (sample %q), want %q", sent, s.Query, tt.sentQry)
			}
		})
	}
}

func TestEvaluateUnreachableHidesCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := strings.Replace(srv.URL, "http://", "http://user:s3cret-token@", 1)
	srv.Close()
	c, err := New(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Evaluate(context.Background(), Check{Query: "up", Max: ptr(1)}, nil)
	if s.Outcome != Inconclusive || !strings.Contains(s.Detail, "unreachable") {
		t.Fatalf("got %s %q", s.Outcome, s.Detail)
	}
	if strings.Contains(s.Detail, "s3cret-token") || strings.Contains(s.Detail, "user:") {
		t.Fatalf("detail leaks credentials: %q", s.Detail)
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "prometheus:9090", "ftp://x", "http://"} {
		if _, err := New(u, nil); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
