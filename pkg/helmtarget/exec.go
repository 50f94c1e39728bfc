package helmtarget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// Program is the program that carries Helm's library.
const Program = "rollback-helm"

// Exec runs every operation in the rollback-helm program, one process per
// operation: Helm's library is in memory only while a release is planned,
// rolled back or marked.
type Exec struct {
	// Binary is the rollback-helm program; empty means it was not found,
	// and every operation fails with Missing.
	Binary string
	// Missing says why there is no Binary and how to install it.
	Missing error
	// Flags are the cluster flags the program reaches the cluster with
	// (kubectl's --kubeconfig, --token, --as, ...); a Ref's Context
	// replaces --context.
	Flags []string
	// Env is the program's environment; nil inherits this process's.
	Env []string
}

// Plan implements Releases.
func (x *Exec) Plan(ctx context.Context, ref Ref, o Options, obs progress.Observer) (*UndoResult, error) {
	var res UndoResult
	err := x.run(ctx, Request{Op: OpPlan, Ref: ref, Options: o}, obs, nil, &res)
	return orNil(&res, err), err
}

// Undo implements Releases.
func (x *Exec) Undo(ctx context.Context, ref Ref, o Options, obs progress.Observer, rec Recorder) (*UndoResult, error) {
	var res UndoResult
	err := x.run(ctx, Request{Op: OpUndo, Ref: ref, Options: o}, obs, rec, &res)
	return orNil(&res, err), err
}

// MarkGood implements Releases.
func (x *Exec) MarkGood(ctx context.Context, ref Ref, o Options, obs progress.Observer) (*MarkGoodResult, error) {
	var res MarkGoodResult
	err := x.run(ctx, Request{Op: OpMarkGood, Ref: ref, Options: o}, obs, nil, &res)
	if res.Release == "" {
		return nil, err
	}
	return &res, err
}

// MarkFailed implements Releases.
func (x *Exec) MarkFailed(ctx context.Context, ref Ref, revision int, reason string, o Options) (*MarkResult, error) {
	var res MarkResult
	err := x.run(ctx, Request{Op: OpMarkFailed, Ref: ref, Options: o, Revision: revision, Reason: reason}, nil, nil, &res)
	if res.Release == "" {
		return nil, err
	}
	return &res, err
}

func orNil(r *UndoResult, err error) *UndoResult {
	if r.Release == "" && err != nil {
		return nil
	}
	return r
}

// run sends req to a new rollback-helm process and reads its answer into
// result. Events go to obs, journal entries to rec (with the error of a
// failed append dropped: the journal warns on its own).
func (x *Exec) run(ctx context.Context, req Request, obs progress.Observer, rec Recorder, result any) error {
	if x.Binary == "" {
		if x.Missing != nil {
			return x.Missing
		}
		return fmt.Errorf("no %s program to reach Helm release %s with", Program, req.Ref.Name)
	}
	req.Flags = x.Flags
	in, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode the request for %s: %w", Program, err)
	}
	cmd := exec.CommandContext(ctx, x.Binary, AgentArgs...)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = x.Env
	var stderr tail
	cmd.Stderr = &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	dieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("run %s: %w", Program, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s (%s): %w", Program, x.Binary, err)
	}
	done, rerr := readAnswer(out, obs, func(e journal.Entry) {
		if rec != nil {
			_, _ = rec.Append(ctx, e)
		}
	})
	_, _ = io.Copy(io.Discard, out)
	werr := cmd.Wait()
	if rerr != nil {
		if werr != nil {
			rerr = fmt.Errorf("%w (%v)", rerr, werr)
		}
		if s := stderr.String(); s != "" {
			rerr = fmt.Errorf("%w: %s", rerr, s)
		}
		if ctx.Err() != nil {
			return outcome.As(outcome.KindOf(ctx.Err()), fmt.Errorf("%s %s: %w", req.Op, req.Ref.Target(), context.Cause(ctx)))
		}
		return rerr
	}
	if len(done.Result) > 0 {
		if err := json.Unmarshal(done.Result, result); err != nil {
			return errors.Join(fmt.Errorf("decode the result of %s: %w", Program, err), done.Err())
		}
	}
	return done.Err()
}

// tail keeps the last 4 KiB written to it: the end of the program's
// stderr, for an error when it dies without an answer.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if n := len(t.b); n > 4096 {
		t.b = t.b[n-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string { return strings.TrimSpace(string(t.b)) }
