// Package rollout rolls a Deployment back to its last known good revision,
// watches the rollout and verifies the result.
//
// # Known-good
//
// A revision is known-good when rollback has observed it fully rolled out and
// healthy: the Deployment controller had observed the Deployment's current
// generation, every desired replica was updated, ready and available, no old
// replica was left, no pod of the revision restarted during the settle window,
// and every health URL answered 2xx. rollback then stamps the revision's
// ReplicaSet with the annotations AnnotationKnownGoodAt, AnnotationKnownGoodHash
// and AnnotationKnownGoodBy. This happens after `rollback app undo`, after
// `rollback app status`, and through `rollback app mark-good` (MarkGood),
// which a CI pipeline runs after a good deploy and which checks that the
// rollout is complete first.
//
// A stamp only counts while AnnotationKnownGoodHash equals the ReplicaSet's
// pod-template-hash label, so a stamp copied onto another ReplicaSet (the
// Deployment controller copies Deployment annotations to new ReplicaSets, and
// `kubectl rollout undo` copies ReplicaSet annotations to the Deployment)
// never marks a different template good.
//
// A revision whose rollout rollback watched fail (crash loop, image pull
// error, OOM, progress deadline, unhealthy verification) is stamped with
// AnnotationFailedAt and AnnotationFailedReason instead, unless it was good
// before; such a revision "never became healthy".
//
// The undo target is the --to-revision, else the newest known-good revision,
// else (no stamp at all) the revision before the current one.
package rollout

// Annotations rollback writes on ReplicaSets, all under AnnotationPrefix.
const (
	// AnnotationPrefix is the prefix of every annotation rollback writes.
	AnnotationPrefix = "rollback.vibestack.dev/"
	// AnnotationKnownGoodAt holds the time (RFC 3339) rollback last observed
	// the ReplicaSet's revision fully rolled out and healthy.
	AnnotationKnownGoodAt = AnnotationPrefix + "known-good-at"
	// AnnotationKnownGoodHash holds the pod-template-hash the known-good stamp
	// was made for; the stamp counts only while it matches the ReplicaSet.
	AnnotationKnownGoodHash = AnnotationPrefix + "known-good-hash"
	// AnnotationKnownGoodBy says which command made the stamp: undo, status or mark-good.
	AnnotationKnownGoodBy = AnnotationPrefix + "known-good-by"
	// AnnotationFailedAt holds the time (RFC 3339) rollback observed the
	// revision fail its rollout or verification.
	AnnotationFailedAt = AnnotationPrefix + "failed-at"
	// AnnotationFailedHash holds the pod-template-hash the failure stamp was made for.
	AnnotationFailedHash = AnnotationPrefix + "failed-hash"
	// AnnotationFailedReason holds a one-line reason for the failure.
	AnnotationFailedReason = AnnotationPrefix + "failed-reason"

	// FieldManager is the field manager of every write this package makes.
	FieldManager = "rollback"
)
