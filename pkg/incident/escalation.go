package incident

import (
	"fmt"
	"strings"

	"github.com/vibestack/rollback/pkg/runbook"
)

// escalationLines returns the runbook's contacts as "role: name (contact)", in order.
func escalationLines(rb *runbook.Runbook) []string {
	var out []string
	add := func(role string, c *runbook.Contact) {
		if c != nil {
			out = append(out, fmt.Sprintf("%s: %s (%s)", role, c.Name, c.Contact))
		}
	}
	add("primary", rb.Escalation.Primary)
	add("secondary", rb.Escalation.Secondary)
	add("engineering lead", rb.Escalation.EngineeringLead)
	return out
}

func lower(s string) string { return strings.ToLower(s) }
