// Package guardcontroller runs pkg/guard as a long-running controller: it
// watches Deployments that opt in with the annotation AnnotationGuard
// ("enabled"), guards every new rollout of them (watch, bake with analysis,
// roll back a bad release to its last known good revision) and persists the
// progress of each guard on the Deployment itself (AnnotationState), so that
// a controller that restarts, or another replica that takes over the
// leadership, resumes a bake instead of forgetting it and never rolls the same
// release back twice.
//
// # State machine
//
// The state annotation holds JSON {hash, revision, phase, bakeStarted, by}
// for one revision of the Deployment, identified by its pod-template-hash and
// revision number. Phases: watching (the rollout is being watched), baking
// (the rollout completed at bakeStarted; analysis runs), passed, rolling-back
// (written in the same atomic patch as the rollback itself), rolled-back and
// failed. Every write is a JSON patch whose first operation tests the value
// that was read, so two writers never lose each other's update.
//
// On every change of a Deployment the leader decides (Decide):
//   - a state for the current (hash, revision) in phase passed, rolled-back or
//     failed: nothing to do;
//   - watching or baking: guard it (again), resuming the bake at bakeStarted;
//   - rolling-back, the Deployment still at the bad hash: the rollback write
//     never landed, roll back (the first and only rollback);
//   - rolling-back, the Deployment at the rollback's generation: only verify
//     the rolled-back revision (watch and stamp it), never roll back again;
//   - no state for the current revision: when its ReplicaSet is stamped
//     known-good there is nothing to do, otherwise it is a new rollout.
package guardcontroller
