package sandbox

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestFitNodes(t *testing.T) {
	node := func(name string, taints []corev1.Taint, cordoned bool) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
			Spec: corev1.NodeSpec{Taints: taints, Unschedulable: cordoned}}
	}
	taint := corev1.Taint{Key: TaintKey, Value: "true", Effect: corev1.TaintEffectNoSchedule}
	nodes := []*corev1.Node{
		node("sandbox-node-2", nil, false),
		node("sandbox-node-1", nil, false),
		node("sandbox-node-3", nil, true),
		node(TaintedNodeName, []corev1.Taint{taint}, false),
	}
	onNode := func(name string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
				Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{name}}}}}}}}
	}
	claims := map[string]*corev1.PersistentVolumeClaim{
		"bound":   {ObjectMeta: metav1.ObjectMeta{Name: "bound"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}},
		"pending": {ObjectMeta: metav1.ObjectMeta{Name: "pending"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}},
	}
	claim := func(name string) (*corev1.PersistentVolumeClaim, error) {
		if c, ok := claims[name]; ok {
			return c, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumeclaims"}, name)
	}
	withClaim := func(name string) []corev1.Volume {
		return []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}}}
	}
	tests := []struct {
		name string
		spec corev1.PodSpec
		want []string
		why  string
	}{
		{name: "plain pod: untainted, uncordoned nodes", want: []string{"sandbox-node-1", "sandbox-node-2"}},
		{name: "tolerates the taint", spec: corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: TaintKey, Operator: corev1.TolerationOpExists}}},
			want: []string{"sandbox-node-1", "sandbox-node-2", TaintedNodeName}},
		{name: "daemonset pod on its node", spec: corev1.PodSpec{Affinity: onNode("sandbox-node-2")}, want: []string{"sandbox-node-2"}},
		{name: "daemonset pod on a cordoned node it tolerates", spec: corev1.PodSpec{Affinity: onNode("sandbox-node-3"),
			Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
			want: []string{"sandbox-node-3"}},
		{name: "pod on the tainted node", spec: corev1.PodSpec{Affinity: onNode(TaintedNodeName)},
			why: "0/4 nodes are available: 1 node(s) had untolerated taint {sandbox.rollback.dev/tainted: true}, 3 node(s) didn't match Pod's node affinity/selector."},
		{name: "node selector", spec: corev1.PodSpec{NodeSelector: map[string]string{"kubernetes.io/hostname": "sandbox-node-1"}}, want: []string{"sandbox-node-1"}},
		{name: "bound claim", spec: corev1.PodSpec{Volumes: withClaim("bound")}, want: []string{"sandbox-node-1", "sandbox-node-2"}},
		{name: "pending claim", spec: corev1.PodSpec{Volumes: withClaim("pending")}, why: "pod has unbound immediate PersistentVolumeClaims"},
		{name: "missing claim", spec: corev1.PodSpec{Volumes: withClaim("none")}, why: `persistentvolumeclaim "none" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := fitNodes(&corev1.Pod{Spec: tt.spec}, nodes, claim)
			if tt.why != "" {
				if why == nil || !strings.Contains(why.message, tt.why) {
					t.Fatalf("fit %v, why %v; want unschedulable: %s", got, why, tt.why)
				}
				return
			}
			if why != nil || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("fit %v, why %v; want %v", got, why, tt.want)
			}
		})
	}
}
