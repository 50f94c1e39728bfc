package journal

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/outcome"
)

// Day is 24 hours: the unit of ParseAge's "d" suffix.
const Day = 24 * time.Hour

// ParseAge reads an age such as 30d, 36h, 90m or 1d12h: whole days ("d",
// 24 hours each) followed, or replaced, by a Go duration. It must be
// positive; anything else is a refusal (outcome.Refused) saying what to write.
func ParseAge(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, outcome.AsRefused(fmt.Errorf("invalid age %q: %s: write a positive age such as 30d, 72h or 1d12h", s, why))
	}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return bad("empty")
	}
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.ParseUint(rest[:i], 10, 32)
		if err != nil || days > 100*365 {
			return bad("days must be a whole number of at most 36500 before the d")
		}
		d, rest = time.Duration(days)*Day, rest[i+1:]
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil {
			return bad("not a duration")
		}
		if more < 0 {
			return bad("negative")
		}
		d += more
	}
	if d <= 0 {
		return bad("not positive")
	}
	return d, nil
}

// FormatAge writes d the way ParseAge reads it: 30d, 1d12h, 90m written
// as 1h30m, 45s.
func FormatAge(d time.Duration) string {
	days, rest := d/Day, d%Day
	s := ""
	if days > 0 {
		s = fmt.Sprintf("%dd", days)
	}
	if rest > 0 || days == 0 {
		r := rest.String()
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		s += r
	}
	return s
}

// RoundAge writes an age the way a person reads it, in its largest unit:
// 62d, 5h, 3m, 12s.
func RoundAge(d time.Duration) string {
	switch {
	case d >= Day:
		return fmt.Sprintf("%dd", d/Day)
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", max(d, 0)/time.Second)
}
