package helmrelease

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	rel "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
	"github.com/vibestack/rollback/pkg/rollout"
)

// plan is a Plan with the release records and objects it was made from.
type plan struct {
	*Plan
	from, to        *rel.Release
	target, current []object
}

// plan reads the history and decides the undo; a refusal comes with the
// plan made so far.
func (u *Undo) plan(ctx context.Context, cfg *action.Configuration, release string) (*plan, error) {
	revs, err := u.revisions(ctx, cfg, release)
	if err != nil {
		return nil, err
	}
	cur := revs[len(revs)-1]
	p := &plan{Plan: &Plan{Release: release, Namespace: u.Namespace, From: cur.Revision, FieldManager: "helm"}, from: cur.rel}
	if cur.Health == HealthPending {
		pd := &Pending{Revision: cur.Revision.Revision, Status: cur.Status, Since: cur.Updated, Description: cur.Description,
			Writer: strings.Join(u.writersOf(ctx, release, cur.Revision.Revision), ", ")}
		p.Pending = pd
		if !u.RecoverPending {
			return p, outcome.AsRefused(fmt.Errorf("release %s: %s: Helm refuses every upgrade and rollback until it ends; another helm operation may still be running, or one was killed midway; if none is running, re-run with --recover-pending to mark revision %d failed (through Helm's storage, recorded in the journal) and roll back",
				release, pd, pd.Revision))
		}
	}
	to, reason, err := chooseTarget(release, revs, u.ToRevision)
	if err != nil {
		return p, err
	}
	p.To, p.Reason, p.to = to.Revision, reason, to.rel
	if p.target, err = parseManifest(to.rel.Manifest, u.Namespace); err != nil {
		return p, err
	}
	for _, o := range workloads(p.target) {
		p.Workloads = append(p.Workloads, o.workload())
		if o.Kind == string(rollout.KindDeployment) {
			p.Deployments = append(p.Deployments, o.Name)
		}
	}
	if to.Revision.Revision == cur.Revision.Revision {
		p.Skip = true
		return p, nil
	}
	if p.current, err = parseManifest(cur.rel.Manifest, u.Namespace); err != nil {
		return p, err
	}
	p.Values = diffValues(cur.rel, to.rel)
	p.Objects = diffObjects(p.current, p.target)
	if err := u.checkOwners(ctx, p); err != nil {
		return p, err
	}
	return p, u.checkStart(ctx, p)
}

// chooseTarget picks the revision to roll back to: toRevision when set
// (any revision, by name), else the newest revision rollback verified good.
// A current revision that is that revision again (a rollback to it whose
// verification never ended: the same manifest, not failed) is the target
// itself: nothing to roll back, only to verify.
func chooseTarget(release string, revs []revision, toRevision int) (revision, string, error) {
	cur := revs[len(revs)-1]
	if toRevision != 0 {
		for _, r := range revs {
			if r.Revision.Revision == toRevision {
				return r, fmt.Sprintf("revision %d as asked with --to-revision (%s)", toRevision, healthText(r.Revision)), nil
			}
		}
		return revision{}, "", outcome.AsRefused(fmt.Errorf("release %s has no revision %d; revisions that exist: %s (helm keeps --history-max of them)", release, toRevision, revisionList(revs)))
	}
	if cur.Health == HealthGood {
		return cur, fmt.Sprintf("revision %d is the last known good revision (verified %s)", cur.Revision.Revision, cur.HealthDetail), nil
	}
	for i := len(revs) - 2; i >= 0; i-- {
		if revs[i].Health != HealthGood {
			continue
		}
		if cur.Health == HealthUnverified && manifestHash(cur.rel.Manifest) == manifestHash(revs[i].rel.Manifest) {
			return cur, fmt.Sprintf("revision %d renders the manifest of the last known good revision %d (%s): it runs that revision again, which is only left to verify (rollback helm mark-good %s)",
				cur.Revision.Revision, revs[i].Revision.Revision, cur.Description, release), nil
		}
		return revs[i], fmt.Sprintf("last known good revision %d (verified %s)", revs[i].Revision.Revision, revs[i].HealthDetail), nil
	}
	var seen []string
	for i := len(revs) - 2; i >= 0 && len(seen) < 4; i-- {
		seen = append(seen, fmt.Sprintf("%d %s", revs[i].Revision.Revision, healthText(revs[i].Revision)))
	}
	return revision{}, "", outcome.AsRefused(fmt.Errorf("no revision of release %s is known good (rollback never verified one healthy), and rollback does not guess: the previous revisions are %s; pick one with `rollback helm undo %s --to-revision N` after reading `rollback helm history %s`, and stamp good releases in CI with `rollback helm mark-good %s`",
		release, orNothing(strings.Join(seen, ", ")), release, release, release))
}

func healthText(r Revision) string {
	if r.Health == HealthUnverified {
		return "unverified, helm " + r.Status
	}
	return r.Health + ", helm " + r.Status
}

func revisionList(revs []revision) string {
	var s []string
	for _, r := range revs {
		s = append(s, fmt.Sprint(r.Revision.Revision))
	}
	return strings.Join(s, ", ")
}

func orNothing(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkOwners runs the ownership check on every workload (Deployment,
// StatefulSet, DaemonSet) of the current release (the live objects),
// leaving out the release itself.
func (u *Undo) checkOwners(ctx context.Context, p *plan) error {
	for _, o := range workloads(p.current) {
		clients := rollout.NewClients(u.Clientset, o.Namespace)
		w, err := rollout.GetWorkload(ctx, clients, o.workload())
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s/%s of release %s: %w", o.Namespace, o.workload(), p.Release, err)
		}
		for _, mf := range w.Object.GetManagedFields() {
			if mf.Operation == metav1.ManagedFieldsOperationApply && mf.Manager != "" {
				p.FieldManager = mf.Manager
				break
			}
		}
		v := ownership.Checker{Applications: clients.Applications}.Check(ctx, o.Kind, w.Object).Without(ownership.KindHelm, p.Release)
		p.Ownership = append(p.Ownership, v)
		if err := v.Refusal(); err != nil {
			if !u.Force {
				return err
			}
			p.Warnings = append(p.Warnings, v.ForcedWarnings()...)
		}
		p.Warnings = append(p.Warnings, v.Notes()...)
	}
	return nil
}

// checkStart refuses a target whose workloads need objects that exist
// neither in the namespace nor in the target's own manifest.
func (u *Undo) checkStart(ctx context.Context, p *plan) error {
	inManifest := map[string]object{}
	for _, o := range p.target {
		inManifest[o.Kind+"/"+o.Name] = o
	}
	checkers := map[string]*podrefs.Checker{}
	for _, o := range p.target {
		if o.template == nil {
			continue
		}
		c := checkers[o.Namespace]
		if c == nil {
			cs := u.Clientset.CoreV1()
			c = &podrefs.Checker{Namespace: o.Namespace, ConfigMaps: cs.ConfigMaps(o.Namespace), Secrets: cs.Secrets(o.Namespace),
				PVCs: cs.PersistentVolumeClaims(o.Namespace), ServiceAccounts: cs.ServiceAccounts(o.Namespace), Snapshots: u.Snapshots}
			checkers[o.Namespace] = c
		}
		r := c.Check(ctx, o.template)
		for _, m := range r.Missing {
			if mo, ok := inManifest[string(m.Kind)+"/"+m.Name]; ok && (m.Key == "" || mo.keys[m.Key]) {
				continue // the rollback creates it
			}
			p.Missing = append(p.Missing, m)
		}
		for _, w := range r.Unchecked {
			p.Warnings = append(p.Warnings, "could not check that the target can start: "+w)
		}
	}
	return podrefs.Result{Missing: p.Missing}.Refusal(fmt.Sprintf("revision %d of release %s", p.To.Revision, p.Release), u.Namespace, "")
}

// writersOf names the field managers of a release record stored as a
// Secret (the default driver: Helm, helm-controller, ...), the latest
// writer first; none when the storage does not tell.
func (u *Undo) writersOf(ctx context.Context, release string, revision int) []string {
	if u.Driver != "" && u.Driver != "secret" && u.Driver != "secrets" {
		return nil
	}
	s, err := u.Clientset.CoreV1().Secrets(u.Namespace).Get(ctx, fmt.Sprintf("sh.helm.release.v1.%s.v%d", release, revision), metav1.GetOptions{})
	if err != nil {
		return nil
	}
	mfs := s.ManagedFields
	sort.SliceStable(mfs, func(i, j int) bool {
		if mfs[i].Time == nil || mfs[j].Time == nil {
			return mfs[j].Time == nil && mfs[i].Time != nil
		}
		return mfs[i].Time.After(mfs[j].Time.Time)
	})
	var who []string
	for _, mf := range mfs {
		if mf.Manager != "" && !contains(who, mf.Manager) {
			who = append(who, mf.Manager)
		}
	}
	return who
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
