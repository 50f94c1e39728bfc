// Package configs rolls back the ConfigMaps and Secrets a Deployment uses.
//
// It finds every ConfigMap and Secret a Deployment's pod template references
// (env valueFrom, envFrom, volumes and projected volumes), tells versioned
// objects (name-vN, or the version labels below) from unversioned ones, keeps
// immutable snapshots of their contents in the cluster, and undoes a change in
// one of two ways: for versioned objects it switches the template's
// references to an earlier version; for unversioned objects it restores the
// data from a snapshot or a manifest file and restarts the Deployment. Both
// end with the same watch and verification as an application rollback
// (package rollout).
//
// Secret values never leave this package: Secrets are described by their
// keys, value sizes and a short hash only.
package configs

// Labels and annotations this package reads and writes.
const (
	// LabelSnapshot marks an object as a snapshot taken by rollback ("true").
	LabelSnapshot = "rollback.vibestack.dev/snapshot"
	// LabelSnapshotOf names the object a snapshot was taken of.
	LabelSnapshotOf = "rollback.vibestack.dev/snapshot-of"
	// AnnotationSourceName holds the full name of the snapshotted object.
	AnnotationSourceName = "rollback.vibestack.dev/source-name"
	// AnnotationSourceResourceVersion holds the resourceVersion the snapshot was taken at.
	AnnotationSourceResourceVersion = "rollback.vibestack.dev/source-resource-version"
	// AnnotationSnapshotTime holds the time the snapshot was taken (RFC 3339).
	AnnotationSnapshotTime = "rollback.vibestack.dev/snapshot-time"
	// AnnotationContentHash holds the content hash of the snapshotted data.
	AnnotationContentHash = "rollback.vibestack.dev/content-hash"
	// AnnotationReason says why a snapshot was taken ("manual", "before config undo", ...).
	AnnotationReason = "rollback.vibestack.dev/reason"

	// LabelConfigName groups label-versioned objects: every version of one
	// configuration carries the same value.
	LabelConfigName = "rollback.vibestack.dev/config-name"
	// LabelConfigVersion holds an object's version ("3" or "v3"); together
	// with LabelConfigName it marks a versioned object whose name need not
	// end in -vN.
	LabelConfigVersion = "rollback.vibestack.dev/config-version"

	// FieldManager is the field manager of every write this package makes.
	FieldManager = "rollback"
)
