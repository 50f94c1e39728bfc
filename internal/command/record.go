package command

import (
	"context"
	"fmt"
	"net/url"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
)

// recordFlags are the flags with which a single command that changes
// something records the change: as an incident of its own, or as a step of
// the open incident --incident names.
type recordFlags struct {
	incident   string
	journalDir string
	reason     string
}

// add binds --incident, --journal-dir and --reason to cmd.
func (r *recordFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&r.incident, "incident", "", "record the change in this open incident (default: an incident of its own)")
	fs.StringVar(&r.journalDir, "journal-dir", "", "directory of incident journals and reports (default $ROLLBACK_JOURNAL_DIR or ~/.local/state/rollback/incidents)")
	fs.StringVar(&r.reason, "reason", "", "why you make the change; goes into the journal and the report")
}

// oneStep returns the record of a change by cmd: step and target, in the
// incident of app (its journal mirrored to mirror when not nil), holding
// locks. Secrets are redacted from the record.
func (r *recordFlags) oneStep(f *Factory, cmd *cobra.Command, app, step, target string, mirror corev1client.ConfigMapInterface, secrets []string, locks ...lifecycle.LockTarget) lifecycle.OneStep {
	return lifecycle.OneStep{
		Options: lifecycle.Options{App: app, Actor: journalActor(), Process: f.Process, JournalDir: r.journalDirOrDefault(),
			Mirror: mirror, Secrets: secrets, Clock: f.Clock, Observer: f.observer(), AfterRecord: f.faultHook()},
		Join: r.incident, Command: cmd.CommandPath(), Step: step, Target: target, Reason: r.reason,
		Inputs: map[string]any{"flags": changedFlags(cmd)}, Locks: locks,
	}
}

func (r *recordFlags) journalDirOrDefault() string {
	if r.journalDir != "" {
		return r.journalDir
	}
	return journal.DefaultDir()
}

// changedFlags lists the names of the flags the user set (values are left
// out: a URL may carry a credential).
func changedFlags(cmd *cobra.Command) []string {
	var out []string
	cmd.Flags().Visit(func(fl *pflag.Flag) { out = append(out, "--"+fl.Name) })
	sort.Strings(out)
	return out
}

// passwordOf returns the password a URL carries, to redact it from the record.
func passwordOf(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok && p != "" {
		return []string{p}
	}
	return nil
}

// mayPatch refuses, before anything is recorded, an identity that may not
// patch the resource in namespace (one SelfSubjectAccessReview): a viewer's
// undo is refused without an incident and without journal mirror writes
// it cannot make.
func mayPatch(ctx context.Context, cs kubernetes.Interface, namespace, group, resource, name string) error {
	r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: "patch", Group: group, Resource: resource, Name: name}},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil // the write itself will say what is wrong
	}
	if !r.Status.Allowed {
		what := resource
		if group != "" {
			what += "." + group
		}
		return exitcode.AsRefused(fmt.Errorf("forbidden: this identity may not patch %s in namespace %s; nothing was changed: an identity with the edit role is needed (`rollback preflight` lists every permission a rollback needs)", what, namespace))
	}
	return nil
}
