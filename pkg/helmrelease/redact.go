package helmrelease

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"

	"github.com/vibestack/rollback/pkg/redact"
)

// secretPath matches value paths whose values are never shown: values
// whose key looks secret. Values that carry a credential anywhere (a URL's
// userinfo, a token parameter, ...) are found by the project's redactor.
var secretPath = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|cert|private|dsn|connection`)

// redacted is how a hidden value is shown.
const redacted = "[REDACTED]"

// shown returns how the value v at path is shown, and whether it was hidden.
func shown(path, v string) (string, bool) {
	if secretPath.MatchString(path) || redact.String(v) != v {
		if v == none {
			return none, true
		}
		sum := sha256.Sum256([]byte(v))
		return redacted + " sha256:" + hex.EncodeToString(sum[:])[:8], true
	}
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	return v, false
}

// none is how an absent value is shown.
const none = "(none)"
