// Package guardcontroller runs pkg/guard as a long-running controller: it
// watches Deployments, StatefulSets and DaemonSets that opt in with the
// annotation AnnotationGuard ("enabled"), guards every new rollout of them
// (watch, bake with analysis, roll back a bad release to its last known good
// revision, replacing the pod that would keep an OrderedReady StatefulSet
// stuck) and persists the progress of each guard on the workload itself
// (AnnotationState), so that a controller that restarts, or another replica
// that takes over the leadership, resumes a bake instead of forgetting it and
// never rolls the same release back twice.
//
// # State machine
//
// The state annotation holds JSON {hash, revision, phase, bakeStarted, by}
// for one revision of the workload, identified by its hash (a Deployment's
// pod-template-hash, a StatefulSet's or DaemonSet's controller-revision hash)
// and revision number. Phases: watching (the rollout is being watched), baking
// (the rollout completed at bakeStarted; analysis runs), passed, rolling-back
// (written in the same atomic patch as the rollback itself), rolled-back and
// failed. Every write is a JSON patch whose first operation tests the value
// that was read, so two writers never lose each other's update.
//
// On every change of a workload or of its revisions the leader decides (Decide):
//   - a state for the current (hash, revision) in phase passed, rolled-back or
//     failed: nothing to do;
//   - watching or baking: guard it (again), resuming the bake at bakeStarted;
//   - rolling-back, the workload still at the bad hash: the rollback write
//     never landed, roll back (the first and only rollback);
//   - rolling-back, the workload at the rollback's generation: only verify
//     the rolled-back revision (watch and stamp it), never roll back again;
//   - no state for the current revision: when it is stamped
//     known-good there is nothing to do, otherwise it is a new rollout.
package guardcontroller
