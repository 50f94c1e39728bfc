package rollout

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
)

// Clients are the namespaced API clients this package uses: the
// workloads of each kind and what holds their revisions (ReplicaSets for
// Deployments, ControllerRevisions for StatefulSets and DaemonSets), their
// pods and Events.
type Clients struct {
	Deployments         appsv1client.DeploymentInterface
	ReplicaSets         appsv1client.ReplicaSetInterface
	StatefulSets        appsv1client.StatefulSetInterface
	DaemonSets          appsv1client.DaemonSetInterface
	ControllerRevisions appsv1client.ControllerRevisionInterface
	Pods                corev1client.PodInterface
	Events              corev1client.EventInterface
	// ConfigMaps, Secrets, PVCs and ServiceAccounts are read before an undo
	// to check that the target revision can start; when ConfigMaps is nil
	// the check is not made.
	ConfigMaps      corev1client.ConfigMapInterface
	Secrets         corev1client.SecretInterface
	PVCs            corev1client.PersistentVolumeClaimInterface
	ServiceAccounts corev1client.ServiceAccountInterface
	// Applications reads Argo CD Applications for the ownership check; nil
	// reads none (an Argo CD marker then blocks as if automated sync were on).
	Applications ownership.ApplicationReader
	// CachedReads lists revisions and pods from the API server's watch
	// cache (resourceVersion "0"): a read that may be a moment behind and
	// never waits for the cache to catch up, which a consistent list does
	// for up to its progress interval (about 100 ms) right after a write.
	// For what is kept, not decided on: the evidence.
	CachedReads bool
}

// listOptions are the options of a list of selector through c.
func (c Clients) listOptions(selector string) metav1.ListOptions {
	o := metav1.ListOptions{LabelSelector: selector}
	if c.CachedReads {
		o.ResourceVersion = "0"
	}
	return o
}

// NewClients returns the clients of namespace from cs.
func NewClients(cs kubernetes.Interface, namespace string) Clients {
	c := Clients{
		Deployments:         cs.AppsV1().Deployments(namespace),
		ReplicaSets:         cs.AppsV1().ReplicaSets(namespace),
		StatefulSets:        cs.AppsV1().StatefulSets(namespace),
		DaemonSets:          cs.AppsV1().DaemonSets(namespace),
		ControllerRevisions: cs.AppsV1().ControllerRevisions(namespace),
		Pods:                cs.CoreV1().Pods(namespace),
		Events:              cs.CoreV1().Events(namespace),
		ConfigMaps:          cs.CoreV1().ConfigMaps(namespace),
		Secrets:             cs.CoreV1().Secrets(namespace),
		PVCs:                cs.CoreV1().PersistentVolumeClaims(namespace),
		ServiceAccounts:     cs.CoreV1().ServiceAccounts(namespace),
	}
	// Fake clientsets have no REST client.
	if rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient); ok && rc != nil {
		c.Applications = ownership.RESTApplications(rc)
	}
	return c
}

// startChecker returns the check that an undo target can start in
// namespace, or nil when the clients cannot make it.
func (c Clients) startChecker(namespace string, snapshots podrefs.SnapshotFinder) *podrefs.Checker {
	if c.ConfigMaps == nil {
		return nil
	}
	return &podrefs.Checker{Namespace: namespace, ConfigMaps: c.ConfigMaps, Secrets: c.Secrets, PVCs: c.PVCs,
		ServiceAccounts: c.ServiceAccounts, Snapshots: snapshots}
}
