package configs

import (
	"regexp"
	"strconv"
	"strings"
)

// Version identifies one version of a versioned configuration object.
type Version struct {
	// Base is the name shared by every version ("app-config").
	Base string `json:"base"`
	// Number orders the versions (3 for app-config-v3).
	Number int `json:"number"`
	// ByLabel is true when the version comes from labels, not the name.
	ByLabel bool `json:"byLabel,omitempty"`
}

// Tag returns the version as users write it: "v3".
func (v Version) Tag() string { return "v" + strconv.Itoa(v.Number) }

var versionSuffix = regexp.MustCompile(`^(.+)-v([0-9]{1,9})$`)

// ParseVersion tells whether an object is versioned and which version it
// is: the labels LabelConfigName and LabelConfigVersion take precedence,
// otherwise a name ending in -vN ("app-config-v3") is version N of
// "app-config". Snapshots are never versions.
func ParseVersion(name string, labels map[string]string) (Version, bool) {
	if labels[LabelSnapshot] == "true" {
		return Version{}, false
	}
	if base, ok := labels[LabelConfigName]; ok && base != "" {
		if n, ok := ParseVersionTag(labels[LabelConfigVersion]); ok {
			return Version{Base: base, Number: n, ByLabel: true}, true
		}
	}
	m := versionSuffix.FindStringSubmatch(name)
	if m == nil {
		return Version{}, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return Version{}, false
	}
	return Version{Base: m[1], Number: n}, true
}

// ParseVersionTag parses "v3", "V3" or "3".
func ParseVersionTag(tag string) (int, bool) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(tag), "v"), "V")
	if t == "" {
		return 0, false
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
