package rollout

import (
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"k8s.io/client-go/kubernetes"
)

// Clients are the namespaced API clients this package uses.
type Clients struct {
	Deployments appsv1client.DeploymentInterface
	ReplicaSets appsv1client.ReplicaSetInterface
	Pods        corev1client.PodInterface
	Events      corev1client.EventInterface
}

// NewClients returns the clients of namespace from cs.
func NewClients(cs kubernetes.Interface, namespace string) Clients {
	return Clients{
		Deployments: cs.AppsV1().Deployments(namespace),
		ReplicaSets: cs.AppsV1().ReplicaSets(namespace),
		Pods:        cs.CoreV1().Pods(namespace),
		Events:      cs.CoreV1().Events(namespace),
	}
}
