package command

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/rollout"
)

// appLogsOptions are the flags of "app logs".
type appLogsOptions struct {
	revision   int64
	previous   bool
	container  string
	tail       int64
	since      time.Duration
	timestamps bool
}

// appLogsResult is the -o json answer of "app logs".
type appLogsResult struct {
	*evidence.LogsResult
	Logs []containerLog `json:"logs"`
}

type containerLog struct {
	Pod       string   `json:"pod"`
	Container string   `json:"container"`
	Lines     []string `json:"lines"`
}

// newAppLogsCmd returns "app logs WORKLOAD".
func newAppLogsCmd(f *Factory) *cobra.Command {
	o := &appLogsOptions{}
	cmd := &cobra.Command{
		Use:   "logs WORKLOAD [--revision N] [--previous]",
		Short: "Print the logs of the pods of one revision (default: the current one), which kubectl cannot select",
		Long: `Print the logs of every pod of one revision of a workload (a Deployment's
pods of one ReplicaSet, a StatefulSet's or DaemonSet's pods of one
ControllerRevision), each line prefixed with [pod/container]: the current revision by
default, or --revision N as "rollback app history" numbers them. --previous
reads each container's previous run (the run before a crash). A container that
never started has no log: it is named on stderr.

The pods of a revision that was rolled back are gone with their logs; the
evidence the rollback kept has them: rollback incident evidence ID.`,
		Example: `  rollback app logs web -n shop
  rollback app logs web -n shop --revision 5 --previous --tail 50
  rollback app logs web -n shop -c app --since 10m --timestamps
  rollback app logs sts/db -n shop --previous`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(ctxOf(cmd), f, args[0]) },
	}
	fs := cmd.Flags()
	fs.Int64Var(&o.revision, "revision", 0, "revision whose pods are read (default: the current one)")
	fs.BoolVarP(&o.previous, "previous", "p", false, "read each container's previous run")
	fs.StringVarP(&o.container, "container", "c", "", "read only this container")
	fs.Int64Var(&o.tail, "tail", -1, "last lines of each log (-1: all)")
	fs.DurationVar(&o.since, "since", 0, "only lines newer than this (e.g. 10m)")
	fs.BoolVar(&o.timestamps, "timestamps", false, "prefix each line with its time")
	return cmd
}

func (o *appLogsOptions) run(ctx context.Context, f *Factory, name string) error {
	cs, ns, err := appClients(f)
	if err != nil {
		return err
	}
	l := &evidence.Logs{Clients: rollout.NewClients(cs, ns), Revision: o.revision, Container: o.container, Previous: o.previous,
		Tail: o.tail, SinceSeconds: int64(o.since.Seconds()), Timestamps: o.timestamps, Observer: f.observer()}
	if f.JSON() {
		var logs []containerLog
		res, err := l.Run(ctx, name, func(pod, container string, line []byte) error {
			if n := len(logs); n == 0 || logs[n-1].Pod != pod || logs[n-1].Container != container {
				logs = append(logs, containerLog{Pod: pod, Container: container})
			}
			logs[len(logs)-1].Lines = append(logs[len(logs)-1].Lines, string(line))
			return nil
		})
		if res != nil {
			if logs == nil {
				logs = []containerLog{}
			}
			if perr := printJSON(f, appLogsResult{LogsResult: res, Logs: logs}); perr != nil && err == nil {
				err = perr
			}
		}
		return err
	}
	sink, flush := evidence.Prefixed(f.IO.Out)
	res, err := l.Run(ctx, name, sink)
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	if res != nil {
		if len(res.Pods) == 0 {
			fmt.Fprintf(f.IO.ErrOut, "skipped: revision %d of %s has no pods: its logs went with them; the rollback that replaced them kept them in its evidence (rollback incident evidence ID)\n", res.Revision, res.Workload)
		} else {
			fmt.Fprintf(f.IO.ErrOut, "deployment %s revision %d: %d pods, %d logs read\n", name, res.Revision, len(res.Pods), res.Read)
		}
	}
	return err
}
