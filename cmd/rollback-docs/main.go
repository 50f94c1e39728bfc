// Command rollback-docs writes the command reference of rollback from its
// cobra commands: one Markdown page per command into docs/reference/ and one
// man page per command into docs/reference/man/. `make docs` runs it; a unit
// test fails when the checked-in reference differs from what it writes.
//
//	go run ./cmd/rollback-docs [-dir docs/reference]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vibestack/rollback/internal/reference"
)

func main() {
	dir := flag.String("dir", "docs/reference", "directory of the Markdown pages (man pages go to DIR/man)")
	flag.Parse()
	if err := reference.Write(*dir); err != nil {
		fmt.Fprintf(os.Stderr, "rollback-docs: %v\n", err)
		os.Exit(1)
	}
}
