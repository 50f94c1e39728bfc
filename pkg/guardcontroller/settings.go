package guardcontroller

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vibestack/rollback/pkg/promquery"
)

// Defaults of the settings, the same as `rollback guard`'s flags.
const (
	DefaultBake                  = 5 * time.Minute
	DefaultInterval              = 30 * time.Second
	DefaultFailureLimit          = 0
	DefaultConsecutiveErrorLimit = 4
	DefaultOnInconclusive        = "rollback"
	DefaultTimeout               = 10 * time.Minute
	DefaultSettle                = 10 * time.Second
)

// Settings are the analysis settings of one guarded workload.
type Settings struct {
	Bake                  time.Duration
	Interval              time.Duration
	FailureLimit          int
	ConsecutiveErrorLimit int
	OnInconclusive        string
	CheckURLs             []string
	PrometheusURL         string
	Checks                []promquery.Check
	Timeout               time.Duration
	Settle                time.Duration
}

// DefaultSettings returns the settings of a workload that sets none.
func DefaultSettings() Settings {
	return Settings{
		Bake: DefaultBake, Interval: DefaultInterval, FailureLimit: DefaultFailureLimit,
		ConsecutiveErrorLimit: DefaultConsecutiveErrorLimit, OnInconclusive: DefaultOnInconclusive, Timeout: DefaultTimeout, Settle: DefaultSettle,
	}
}

// configKeyQueries is the ConfigMap key of the Prometheus queries (YAML list).
const configKeyQueries = "queries"

// Limits of the settings: tenant input never makes the controller run an
// unbounded amount of work per round.
const (
	MaxCheckURLs = 20
	MaxQueries   = 50
)

// ParseSettings reads the settings strictly: first the referenced
// ConfigMap's data (configData, nil when there is none), then the
// workload's annotations, which override it. Every URL must be allowed by
// allow. Every problem is reported, naming the annotation or key, never the
// value of a URL (it may hold a token).
func ParseSettings(annotations, configData map[string]string, allow URLPolicy) (Settings, error) {
	s := DefaultSettings()
	var errs []error
	keys := make([]string, 0, len(configData))
	for k := range configData {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byConfigKey := map[string]string{}
	for a, k := range settingKeys {
		byConfigKey[k] = a
	}
	for _, k := range keys {
		v := configData[k]
		where := fmt.Sprintf("configmap key %q", k)
		if k == configKeyQueries {
			checks, err := parseQueries(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			s.Checks = checks
			continue
		}
		a, ok := byConfigKey[k]
		if !ok && k == "allowURLs" {
			errs = append(errs, fmt.Errorf("%s: the URL allowlist is the cluster admin's, set on the controller (--allow-url or its own settings ConfigMap), not per workload", where))
			continue
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown setting; known keys: %s", where, knownConfigKeys()))
			continue
		}
		if err := s.set(a, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	keys = keys[:0]
	for k := range annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, a := range keys {
		if !strings.HasPrefix(a, AnnotationPrefix) || a == AnnotationGuard || a == AnnotationConfig || a == AnnotationState {
			continue
		}
		if _, ok := settingKeys[a]; !ok {
			errs = append(errs, fmt.Errorf("annotation %s: unknown guard setting; known: %s", a, knownAnnotations()))
			continue
		}
		if err := s.set(a, annotations[a]); err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", a, err))
		}
	}
	if len(s.Checks) > 0 && s.PrometheusURL == "" {
		errs = append(errs, fmt.Errorf("%d prometheus queries but no Prometheus: set annotation %s or configmap key prometheus-url", len(s.Checks), AnnotationPrometheusURL))
	}
	for i, u := range s.CheckURLs {
		if err := allow.Check(u); err != nil {
			errs = append(errs, fmt.Errorf("check URL %d: %w", i+1, err))
		}
	}
	if s.PrometheusURL != "" {
		if err := allow.Check(s.PrometheusURL); err != nil {
			errs = append(errs, fmt.Errorf("prometheus URL: %w", err))
		}
	}
	if s.Interval > s.Bake && s.Bake > 0 {
		errs = append(errs, fmt.Errorf("interval %s is longer than the bake %s: no analysis round would run; shorten the interval", s.Interval, s.Bake))
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("guard settings: %w", err)
	}
	return s, nil
}

// set parses one setting named by its annotation a.
func (s *Settings) set(a, v string) error {
	v = strings.TrimSpace(v)
	switch a {
	case AnnotationBake:
		return duration(v, 0, &s.Bake)
	case AnnotationInterval:
		return duration(v, time.Second, &s.Interval)
	case AnnotationTimeout:
		return duration(v, time.Second, &s.Timeout)
	case AnnotationSettle:
		return duration(v, 0, &s.Settle)
	case AnnotationFailureLimit:
		return count(v, &s.FailureLimit)
	case AnnotationConsecutiveErrorLimit:
		return count(v, &s.ConsecutiveErrorLimit)
	case AnnotationOnInconclusive:
		switch v {
		case "rollback", "pass", "fail":
			s.OnInconclusive = v
			return nil
		}
		return fmt.Errorf("%q is not rollback, pass or fail", v)
	case AnnotationCheckURLs:
		s.CheckURLs = nil
		for i, u := range strings.Split(v, ",") {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			if err := httpURL(u); err != nil {
				return fmt.Errorf("entry %d: %w", i+1, err)
			}
			s.CheckURLs = append(s.CheckURLs, u)
		}
		if len(s.CheckURLs) > MaxCheckURLs {
			return fmt.Errorf("%d check URLs, more than the limit of %d", len(s.CheckURLs), MaxCheckURLs)
		}
		return nil
	case AnnotationPrometheusURL:
		if err := httpURL(v); err != nil {
			return err
		}
		s.PrometheusURL = v
		return nil
	}
	return fmt.Errorf("unknown setting")
}

// duration parses a Go duration of at least min.
func duration(v string, min time.Duration, into *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
	}
	if d < min {
		return fmt.Errorf("%s is shorter than the minimum %s", d, min)
	}
	*into = d
	return nil
}

// count parses a non-negative integer.
func count(v string, into *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a whole number >= 0", v)
	}
	*into = n
	return nil
}

// httpURL checks that v is an absolute http or https URL, without echoing it.
func httpURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

// query is one entry of the ConfigMap's queries list.
type query struct {
	Name  string   `yaml:"name"`
	Query string   `yaml:"query"`
	Max   *float64 `yaml:"max"`
	Min   *float64 `yaml:"min"`
}

// parseQueries parses the YAML list of {name, query, max|min}, strictly.
func parseQueries(v string) ([]promquery.Check, error) {
	var qs []query
	dec := yaml.NewDecoder(bytes.NewBufferString(v))
	dec.KnownFields(true)
	if err := dec.Decode(&qs); err != nil {
		return nil, fmt.Errorf("not a YAML list of {name, query, max|min}: %w", err)
	}
	if len(qs) > MaxQueries {
		return nil, fmt.Errorf("%d queries, more than the limit of %d", len(qs), MaxQueries)
	}
	seen := map[string]bool{}
	var out []promquery.Check
	for i, q := range qs {
		switch {
		case q.Name == "":
			return nil, fmt.Errorf("query %d has no name", i+1)
		case seen[q.Name]:
			return nil, fmt.Errorf("query %d: name %q is used twice", i+1, q.Name)
		case strings.TrimSpace(q.Query) == "":
			return nil, fmt.Errorf("query %q has no query", q.Name)
		case (q.Max == nil) == (q.Min == nil):
			return nil, fmt.Errorf("query %q needs exactly one of max and min", q.Name)
		}
		if err := promquery.Validate(q.Query); err != nil {
			return nil, fmt.Errorf("query %q: %w", q.Name, err)
		}
		seen[q.Name] = true
		out = append(out, promquery.Check{Name: q.Name, Query: q.Query, Max: q.Max, Min: q.Min})
	}
	return out, nil
}

func knownConfigKeys() string {
	var ks []string
	for _, k := range settingKeys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(append(ks, configKeyQueries), ", ")
}

func knownAnnotations() string {
	var ks []string
	for a := range settingKeys {
		ks = append(ks, a)
	}
	sort.Strings(ks)
	return strings.Join(append(ks, AnnotationConfig), ", ")
}
