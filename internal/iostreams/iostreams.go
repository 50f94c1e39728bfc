// Package iostreams holds the standard streams a command reads and writes,
// and whether each is a terminal, so that tests can inject buffers.
package iostreams

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/vibestack/rollback/pkg/redact"
)

// IOStreams are the streams of one command invocation: results go to Out,
// human progress to ErrOut, answers to prompts come from In.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// InTTY reports whether In is an interactive terminal (prompts allowed).
	InTTY bool
	// ErrTTY reports whether ErrOut is a terminal (live updating lines allowed).
	ErrTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// Redacted returns a copy of s whose Out and ErrOut pass everything written
// through r first.
func (s *IOStreams) Redacted(r *redact.Redactor) *IOStreams {
	c := *s
	c.Out, c.ErrOut = r.Writer(s.Out), r.Writer(s.ErrOut)
	return &c
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// Confirm asks question on ErrOut and reads a yes/no answer from In.
// It returns false for anything but "y" or "yes".
func (s *IOStreams) Confirm(question string) (bool, error) {
	fmt.Fprintf(s.ErrOut, "%s [y/N]: ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("read answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
