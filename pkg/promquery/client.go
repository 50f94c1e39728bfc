package promquery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// DefaultTimeout bounds one query when the caller's context has no earlier deadline.
const DefaultTimeout = 10 * time.Second

// Client queries one Prometheus server through its HTTP API.
type Client struct {
	host string
	api  v1.API
	// Timeout bounds one query; DefaultTimeout when zero.
	Timeout time.Duration
}

// New returns a Client for the Prometheus server at rawURL (http or https,
// e.g. http://prometheus:9090); hc may be nil. Credentials in the URL are
// used but never printed: errors and details name the host only.
func New(rawURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: want http(s)://host[:port][/path]", redact.URL(rawURL))
	}
	if hc == nil {
		hc = safehttp.NewClient(0)
	}
	c, err := api.NewClient(api.Config{Address: rawURL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", u.Host, err)
	}
	return &Client{host: u.Host, api: v1.NewAPI(c)}, nil
}

// Host is the host:port of the server, safe to print.
func (c *Client) Host() string { return c.host }

// Evaluate runs chk once with its query template expanded over vars and
// judges the value; it never returns Pass on an error. The outcome is
// inconclusive for a template error, an unreachable server, an HTTP or API
// error, a timeout, an empty result ("no data"), NaN or ±Inf, and a result
// of several series (aggregate them with sum()).
func (c *Client) Evaluate(ctx context.Context, chk Check, vars map[string]string) Sample {
	s := Sample{Check: chk.Name, Query: chk.Query, Outcome: Inconclusive}
	q, err := Expand(chk.Query, vars)
	if err != nil {
		s.Detail = err.Error()
		return s
	}
	s.Query = q
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, _, _, err := c.api.Query(ctx, q, time.Time{})
	if err != nil {
		s.Detail = c.describe(err)
		return s
	}
	v, detail := single(val)
	if detail != "" {
		s.Detail = detail
		return s
	}
	s.Value = v
	s.Outcome, s.Detail = Judge(chk, v)
	return s
}

// Judge compares v with chk's threshold: Fail when v > Max or v < Min,
// Inconclusive when v is NaN or infinite or chk has no threshold.
func Judge(chk Check, v float64) (Outcome, string) {
	switch {
	case math.IsNaN(v):
		return Inconclusive, "value is NaN (e.g. a rate divided by zero traffic)"
	case math.IsInf(v, 0):
		return Inconclusive, "value is " + formatValue(v)
	case chk.Max == nil && chk.Min == nil:
		return Inconclusive, "no threshold: set max or min"
	case chk.Max != nil && v > *chk.Max:
		return Fail, fmt.Sprintf("%s > max %s", formatValue(v), formatValue(*chk.Max))
	case chk.Min != nil && v < *chk.Min:
		return Fail, fmt.Sprintf("%s < min %s", formatValue(v), formatValue(*chk.Min))
	}
	return Pass, ""
}

// single returns the one value of an instant query result, or why there is
// not exactly one.
func single(val model.Value) (float64, string) {
	switch r := val.(type) {
	case *model.Scalar:
		return float64(r.Value), ""
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, "no data: the query returned an empty vector"
		case 1:
			return float64(r[0].Value), ""
		}
		return 0, fmt.Sprintf("%d series; aggregate with sum()", len(r))
	case model.Matrix:
		return 0, "range vector: the query must return one instant value"
	case nil:
		return 0, "no data"
	}
	return 0, fmt.Sprintf("unsupported result type %s", val.Type())
}

// describe explains a query error without the URL (which may hold credentials).
func (c *Client) describe(err error) string {
	var perr *v1.Error
	if errors.As(err, &perr) {
		switch perr.Type {
		case v1.ErrBadData:
			return fmt.Sprintf("prometheus %s rejected the query: %s", c.host, perr.Msg)
		case v1.ErrTimeout, v1.ErrCanceled:
			return fmt.Sprintf("prometheus %s: query %s: %s", c.host, perr.Type, perr.Msg)
		case v1.ErrServer, v1.ErrClient:
			msg := perr.Msg
			var uerr *url.Error
			if errors.As(err, &uerr) {
				msg = cause(uerr.Err)
			}
			return fmt.Sprintf("prometheus %s: %s", c.host, msg)
		}
		return fmt.Sprintf("prometheus %s: %s: %s", c.host, perr.Type, perr.Msg)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Sprintf("prometheus %s unreachable: %s", c.host, cause(uerr.Err))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("prometheus %s: timed out", c.host)
	}
	return fmt.Sprintf("prometheus %s: %s", c.host, cause(err))
}

// cause shortens a transport error to its reason.
func cause(err error) string {
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.As(err, &op):
		if op.Err != nil {
			return op.Op + ": " + op.Err.Error()
		}
	}
	return err.Error()
}

// BadQuery reports whether s failed because Prometheus rejected the query
// or its template is wrong: an error in the check, not in the release.
func BadQuery(s Sample) bool {
	return s.Outcome == Inconclusive && (strings.HasPrefix(s.Detail, "query template:") || strings.Contains(s.Detail, "rejected the query"))
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
