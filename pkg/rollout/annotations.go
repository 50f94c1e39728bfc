package rollout

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
)

// Annotations and reasons the deployment controller writes, as in
// k8s.io/kubernetes/pkg/controller/deployment/util (and its copy in
// k8s.io/kubectl/pkg/util/deployment, which rollback does not link: it pulls
// in k8s.io/cli-runtime/pkg/resource and about 25 MB of resident memory).
const (
	revisionAnnotation        = "deployment.kubernetes.io/revision"
	revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	maxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	// timedOutReason is the Progressing condition's reason once the
	// progress deadline passed.
	timedOutReason = "ProgressDeadlineExceeded"
)

// revisionNumber returns the revision the deployment controller wrote on
// rs, or 0 when it has none or it does not parse.
func revisionNumber(rs *appsv1.ReplicaSet) int64 {
	n, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// deploymentCondition returns the condition of type t, or nil.
func deploymentCondition(status appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}
