package runbook

import _ "embed"

//go:embed example.yaml
var example []byte

// Example returns a commented example runbook for the VibeStack application,
// as written by "rollback init". It parses without error.
func Example() []byte {
	return append([]byte(nil), example...)
}
