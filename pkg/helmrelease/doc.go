// Package helmrelease rolls a Helm release back the way Helm records it:
// through Helm's own library (release storage, action.Rollback), to the
// last revision rollback verified healthy, never to a failed, pending or
// never-verified one unless asked by number. After the rollback every
// workload of the release is watched and verified with rollout.Status (the
// one verification), and the new revision is marked.
//
// Marks live in a ConfigMap per release owned by rollback
// (MarksConfigMapName), never in Helm's release records: a mark counts only
// while the revision's manifest still hashes to what was marked.
package helmrelease
