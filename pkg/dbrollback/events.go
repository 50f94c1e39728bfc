package dbrollback

import (
	"fmt"

	"github.com/vibestack/rollback/pkg/progress"
)

// emit sends one event about the database to o.
func emit(o progress.Observer, kind progress.Kind, format string, args ...any) {
	msg := ""
	if format != "" {
		msg = fmt.Sprintf(format, args...)
	}
	progress.Emit(o, progress.Event{Kind: kind, Source: "db", Target: "database", Message: msg})
}
