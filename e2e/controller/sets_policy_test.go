//go:build e2e

package controller_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/rollout"
)

// The shipped RBAC and admission policies (kubectl apply -k deploy/, for
// real) let the controller's ServiceAccount do what guarding StatefulSets
// and DaemonSets takes, and nothing more: the undo of an opted-in
// StatefulSet and DaemonSet (the JSON patch with its test ops and the state
// annotation), the known-good stamp on a ControllerRevision, the deletion of
// a StatefulSet's pod with a UID precondition. Everything else is refused,
// by RBAC or with the policy's message: other workloads, other fields,
// other pods, other annotations, create and delete (also where
// deploy/helm-releases.yaml grants them).
func TestSetsPolicy(t *testing.T) {
	kubectl(t, "apply", "-k", "deploy/")
	_, sa := sb.ServiceAccount(t, "rollback-system", "rollback-guard")
	ns := sb.Namespace(t)

	optIn := func(m *metav1.ObjectMeta) {
		m.Annotations = map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue}
	}
	sb.CreateStatefulSet(t, ns, "db", "vibestack/app:v1", sandboxenv.StatefulSetOptions{Replicas: 2,
		Mutate: func(s *appsv1.StatefulSet) { optIn(&s.ObjectMeta) }})
	sb.CreateStatefulSet(t, ns, "cache", "vibestack/app:v1", sandboxenv.StatefulSetOptions{Replicas: 1, NoVolumes: true})
	sb.CreateDaemonSet(t, ns, "agent", "vibestack/app:v1", sandboxenv.DaemonSetOptions{
		Mutate: func(d *appsv1.DaemonSet) { optIn(&d.ObjectMeta) }})
	sb.CreateDaemonSet(t, ns, "logs", "vibestack/app:v1", sandboxenv.DaemonSetOptions{})
	newDeployment(t, ns, "web", "vibestack/app:v1", nil)
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Labels: map[string]string{"app": "bare"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "vibestack/app:v1"}}}}
	if _, err := sb.Clientset.CoreV1().Pods(ns).Create(ctx(t), bare, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sb.WaitStatefulSetRolledOut(t, ns, "db")
	sb.WaitDaemonSetRolledOut(t, ns, "agent")
	waitRolledOut(t, ns, "web")

	t.Run("access reviews", func(t *testing.T) { reviewSetsRBAC(t, sa, ns) })

	// The policies are in force once the API server has loaded them: a dry
	// run of what each refuses, harmless while it is still allowed.
	dry := []string{metav1.DryRunAll}
	eventually(t, time.Minute, "the admission policies refuse a dry run", func() bool {
		_, e1 := sa.AppsV1().StatefulSets(ns).Patch(ctx(t), "cache", types.MergePatchType, []byte(`{"metadata":{"annotations":{"x":"y"}}}`), metav1.PatchOptions{DryRun: dry})
		_, e2 := sa.AppsV1().ControllerRevisions(ns).Patch(ctx(t), revisionOf(t, ns, "db").Name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"x":"y"}}}`), metav1.PatchOptions{DryRun: dry})
		e3 := sa.CoreV1().Pods(ns).Delete(ctx(t), "bare", metav1.DeleteOptions{DryRun: dry})
		return apierrors.IsInvalid(e1) && apierrors.IsInvalid(e2) && apierrors.IsInvalid(e3)
	})

	// Allowed: the undo of a bad release on an opted-in StatefulSet and
	// DaemonSet, the stamp of a revision, the stuck StatefulSet's pod.
	good := map[string]corev1.PodTemplateSpec{
		"statefulsets/db":  sb.StatefulSet(t, ns, "db").Spec.Template,
		"daemonsets/agent": sb.DaemonSet(t, ns, "agent").Spec.Template,
	}
	sb.SetStatefulSetImage(t, ns, "db", "vibestack/app:v2")
	sb.SetDaemonSetImage(t, ns, "agent", "vibestack/app:v2")
	if err := patchSet(t, sa, ns, "statefulsets/db", types.JSONPatchType, undoPatch(t, metaOf(t, ns, "statefulsets/db"), good["statefulsets/db"])); err != nil {
		t.Fatalf("undo of an opted-in StatefulSet as the controller: %v", err)
	}
	if err := patchSet(t, sa, ns, "daemonsets/agent", types.JSONPatchType, undoPatch(t, metaOf(t, ns, "daemonsets/agent"), good["daemonsets/agent"])); err != nil {
		t.Fatalf("undo of an opted-in DaemonSet as the controller: %v", err)
	}
	sts, ds := sb.StatefulSet(t, ns, "db"), sb.DaemonSet(t, ns, "agent")
	for what, got := range map[string]*metav1.ObjectMeta{"statefulsets/db": &sts.ObjectMeta, "daemonsets/agent": &ds.ObjectMeta} {
		if got.Annotations[guardcontroller.AnnotationState] == "" {
			t.Errorf("%s: no guard state after the undo", what)
		}
	}
	if img := sts.Spec.Template.Spec.Containers[0].Image; img != "vibestack/app:v1" {
		t.Errorf("statefulset db at %s after the undo, want vibestack/app:v1", img)
	}
	if img := ds.Spec.Template.Spec.Containers[0].Image; img != "vibestack/app:v1" {
		t.Errorf("daemonset agent at %s after the undo, want vibestack/app:v1", img)
	}
	stamp := []byte(`{"metadata":{"annotations":{"` + rollout.AnnotationKnownGoodAt + `":"` + time.Now().UTC().Format(time.RFC3339) + `"}}}`)
	for _, app := range []string{"db", "agent"} {
		cr := revisionOf(t, ns, app)
		if _, err := sa.AppsV1().ControllerRevisions(ns).Patch(ctx(t), cr.Name, types.MergePatchType, stamp, metav1.PatchOptions{}); err != nil {
			t.Errorf("stamp ControllerRevision %s as the controller: %v", cr.Name, err)
		}
	}
	stuck := podOf(t, ns, "app=db")
	if err := sa.CoreV1().Pods(ns).Delete(ctx(t), stuck.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(stuck.UID))}); err != nil {
		t.Fatalf("delete StatefulSet pod %s (UID precondition) as the controller: %v", stuck.Name, err)
	}
	eventually(t, 2*time.Minute, "the StatefulSet recreates pod "+stuck.Name, func() bool {
		p, err := sb.Clientset.CoreV1().Pods(ns).Get(ctx(t), stuck.Name, metav1.GetOptions{})
		return err == nil && p.UID != stuck.UID
	})

	// Refused: by RBAC (Forbidden) or by an admission policy (its message).
	kubeSystemPod := statefulSetPodIn(t, "kube-system")
	dbRev := revisionOf(t, ns, "db")
	refused := []struct {
		name, want string
		do         func() error
	}{
		{"the undo on a StatefulSet not opted in", "only changes StatefulSets annotated rollback.vibestack.dev/guard=enabled", func() error {
			return patchSet(t, sa, ns, "statefulsets/cache", types.JSONPatchType, undoPatch(t, metaOf(t, ns, "statefulsets/cache"), withImage(sb.StatefulSet(t, ns, "cache").Spec.Template, "evil/x:1")))
		}},
		{"the undo on a DaemonSet not opted in", "only changes DaemonSets annotated rollback.vibestack.dev/guard=enabled", func() error {
			return patchSet(t, sa, ns, "daemonsets/logs", types.JSONPatchType, undoPatch(t, metaOf(t, ns, "daemonsets/logs"), withImage(sb.DaemonSet(t, ns, "logs").Spec.Template, "evil/x:1")))
		}},
		{"scale a StatefulSet by patch", "may not change a StatefulSet's spec.replicas", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`))
		}},
		{"change a StatefulSet's updateStrategy", "may not change a StatefulSet's spec.updateStrategy", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.MergePatchType, []byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}`))
		}},
		{"delete a StatefulSet's claims with it", "may not change a StatefulSet's spec.persistentVolumeClaimRetentionPolicy", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.MergePatchType, []byte(`{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"}}}`))
		}},
		// The API server's own validation refuses a volumeClaimTemplates
		// change before admission (field is immutable); the policy would too.
		{"change a StatefulSet's volumeClaimTemplates", "spec.volumeClaimTemplates", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"2Gi"}]`))
		}},
		{"change a StatefulSet's serviceAccountName", "may not change the pods' ServiceAccount", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.MergePatchType, []byte(`{"spec":{"template":{"spec":{"serviceAccountName":"default"}}}}`))
		}},
		{"change a DaemonSet's serviceAccountName", "may not change the pods' ServiceAccount", func() error {
			return patchSet(t, sa, ns, "daemonsets/agent", types.MergePatchType, []byte(`{"spec":{"template":{"spec":{"serviceAccountName":"default"}}}}`))
		}},
		{"change a DaemonSet's updateStrategy", "may not change a DaemonSet's spec.updateStrategy", func() error {
			return patchSet(t, sa, ns, "daemonsets/agent", types.MergePatchType, []byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"maxUnavailable":3}}}}`))
		}},
		{"set a DaemonSet's minReadySeconds", "may not change a DaemonSet's spec.minReadySeconds", func() error {
			return patchSet(t, sa, ns, "daemonsets/agent", types.MergePatchType, []byte(`{"spec":{"minReadySeconds":30}}`))
		}},
		{"mount a hostPath in a DaemonSet", "may not change the pods' host namespaces, security context, node, runtime class or volumes", func() error {
			return patchSet(t, sa, ns, "daemonsets/agent", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/template/spec/volumes","value":[{"name":"root","hostPath":{"path":"/"}}]}]`))
		}},
		{"add a container to a StatefulSet", "may not add, remove or reorder containers", func() error {
			return patchSet(t, sa, ns, "statefulsets/db", types.JSONPatchType, []byte(`[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"miner","image":"evil/miner:1"}}]`))
		}},
		{"create a StatefulSet", "cannot create resource", func() error {
			s := sb.StatefulSet(t, ns, "cache")
			s.ObjectMeta = metav1.ObjectMeta{Name: "evil"}
			_, err := sa.AppsV1().StatefulSets(ns).Create(ctx(t), s, metav1.CreateOptions{})
			return err
		}},
		{"delete a StatefulSet", "cannot delete resource", func() error {
			return sa.AppsV1().StatefulSets(ns).Delete(ctx(t), "db", metav1.DeleteOptions{})
		}},
		{"relabel a ControllerRevision", "may only stamp ControllerRevisions (annotations), never change their metadata.labels", func() error {
			_, err := sa.AppsV1().ControllerRevisions(ns).Patch(ctx(t), dbRev.Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"other"}}}`), metav1.PatchOptions{})
			return err
		}},
		{"renumber a ControllerRevision", "never change their revision", func() error {
			_, err := sa.AppsV1().ControllerRevisions(ns).Patch(ctx(t), dbRev.Name, types.MergePatchType, []byte(`{"revision":99}`), metav1.PatchOptions{})
			return err
		}},
		{"annotate a ControllerRevision outside rollback.vibestack.dev/", "may only change rollback.vibestack.dev/ annotations of ControllerRevisions, not example.com/x", func() error {
			_, err := sa.AppsV1().ControllerRevisions(ns).Patch(ctx(t), dbRev.Name, types.MergePatchType, []byte(`{"metadata":{"annotations":{"example.com/x":"y"}}}`), metav1.PatchOptions{})
			return err
		}},
		{"delete a ReplicaSet's pod", "only deletes pods that a StatefulSet controls", func() error { return deletePod(t, sa, podOf(t, ns, "app=web")) }},
		{"delete a DaemonSet's pod", "only deletes pods that a StatefulSet controls", func() error { return deletePod(t, sa, podOf(t, ns, "app=agent")) }},
		{"delete a bare pod", "only deletes pods that a StatefulSet controls", func() error { return deletePod(t, sa, podOf(t, ns, "app=bare")) }},
		{"delete a StatefulSet's pod in kube-system", "never deletes pods in kube-system", func() error { return deletePod(t, sa, kubeSystemPod) }},
		{"delete a StatefulSet's pod without a UID precondition", "only with a UID precondition", func() error {
			return sa.CoreV1().Pods(ns).Delete(ctx(t), podOf(t, ns, "app=db").Name, metav1.DeleteOptions{})
		}},
		{"create a pod", "cannot create resource", func() error {
			_, err := sa.CoreV1().Pods(ns).Create(ctx(t), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "evil"}, Spec: bare.Spec}, metav1.CreateOptions{})
			return err
		}},
		{"get a secret", "cannot get resource", func() error {
			_, err := sa.CoreV1().Secrets(ns).Get(ctx(t), "any", metav1.GetOptions{})
			return err
		}},
	}
	checkRefused(t, refused)
	if s := sb.StatefulSet(t, ns, "db"); *s.Spec.Replicas != 2 || s.Spec.Template.Spec.ServiceAccountName != "" || len(s.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("the refused patches changed statefulset db: replicas %d, template %+v", *s.Spec.Replicas, s.Spec.Template.Spec)
	}
	if d := sb.DaemonSet(t, ns, "agent"); d.Spec.MinReadySeconds != 0 || len(d.Spec.Template.Spec.Volumes) != 0 {
		t.Errorf("the refused patches changed daemonset agent: %+v", d.Spec)
	}
	if img := sb.StatefulSet(t, ns, "cache").Spec.Template.Spec.Containers[0].Image; img != "vibestack/app:v1" {
		t.Errorf("statefulset cache (not opted in) at %s", img)
	}

	// deploy/helm-releases.yaml grants create and delete on the workloads
	// (a Helm rollback applies the chart); the policy still refuses both.
	kubectl(t, "apply", "-n", ns, "-f", "deploy/helm-releases.yaml")
	eventually(t, time.Minute, "deploy/helm-releases.yaml in force", func() bool {
		return review(t, sa, authzv1.ResourceAttributes{Namespace: ns, Verb: "delete", Group: "apps", Resource: "daemonsets"})
	})
	checkRefused(t, []struct {
		name, want string
		do         func() error
	}{
		{"create a StatefulSet (helm-releases.yaml)", "only updates StatefulSets (no create, delete or scale)", func() error {
			s := sb.StatefulSet(t, ns, "cache")
			s.ObjectMeta = metav1.ObjectMeta{Name: "evil", Annotations: map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue}}
			_, err := sa.AppsV1().StatefulSets(ns).Create(ctx(t), s, metav1.CreateOptions{})
			return err
		}},
		{"delete an opted-in StatefulSet (helm-releases.yaml)", "only updates StatefulSets (no create, delete or scale)", func() error {
			return sa.AppsV1().StatefulSets(ns).Delete(ctx(t), "db", metav1.DeleteOptions{})
		}},
		{"delete an opted-in DaemonSet (helm-releases.yaml)", "only updates DaemonSets (no create, delete or scale)", func() error {
			return sa.AppsV1().DaemonSets(ns).Delete(ctx(t), "agent", metav1.DeleteOptions{})
		}},
	})
	sb.StatefulSet(t, ns, "db") // still there
	sb.DaemonSet(t, ns, "agent")
}

// reviewSetsRBAC asks the API server, as the controller's ServiceAccount,
// for what guarding StatefulSets and DaemonSets needs and what stays
// forbidden.
func reviewSetsRBAC(t *testing.T, sa kubernetes.Interface, ns string) {
	apps := func(verb, resource, sub string) authzv1.ResourceAttributes {
		return authzv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: "apps", Resource: resource, Subresource: sub}
	}
	core := func(verb, resource, sub string) authzv1.ResourceAttributes {
		return authzv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: resource, Subresource: sub}
	}
	everywhere := func(ra authzv1.ResourceAttributes) authzv1.ResourceAttributes { ra.Namespace = ""; return ra }
	for _, tt := range []struct {
		name string
		ra   authzv1.ResourceAttributes
		want bool
	}{
		{"watch statefulsets in every namespace", everywhere(apps("watch", "statefulsets", "")), true},
		{"watch daemonsets in every namespace", everywhere(apps("watch", "daemonsets", "")), true},
		{"watch controllerrevisions in every namespace", everywhere(apps("watch", "controllerrevisions", "")), true},
		{"get statefulsets", apps("get", "statefulsets", ""), true},
		{"patch statefulsets", apps("patch", "statefulsets", ""), true},
		{"patch daemonsets", apps("patch", "daemonsets", ""), true},
		{"list controllerrevisions", apps("list", "controllerrevisions", ""), true},
		{"patch controllerrevisions", apps("patch", "controllerrevisions", ""), true},
		{"delete pods", core("delete", "pods", ""), true},
		{"create events", core("create", "events", ""), true},
		{"create statefulsets", apps("create", "statefulsets", ""), false},
		{"update statefulsets (only patch)", apps("update", "statefulsets", ""), false},
		{"delete statefulsets", apps("delete", "statefulsets", ""), false},
		{"scale statefulsets", apps("update", "statefulsets", "scale"), false},
		{"patch statefulsets/status", apps("patch", "statefulsets", "status"), false},
		{"create daemonsets", apps("create", "daemonsets", ""), false},
		{"delete daemonsets", apps("delete", "daemonsets", ""), false},
		{"create controllerrevisions", apps("create", "controllerrevisions", ""), false},
		{"delete controllerrevisions", apps("delete", "controllerrevisions", ""), false},
		{"create pods", core("create", "pods", ""), false},
		{"update pods", core("update", "pods", ""), false},
		{"patch pods", core("patch", "pods", ""), false},
		{"deletecollection pods", core("deletecollection", "pods", ""), false},
		{"evict pods", core("create", "pods", "eviction"), false},
		{"exec into pods", core("create", "pods", "exec"), false},
		{"get secrets", core("get", "secrets", ""), false},
		{"create persistentvolumeclaims", core("create", "persistentvolumeclaims", ""), false},
		{"delete persistentvolumeclaims", core("delete", "persistentvolumeclaims", ""), false},
	} {
		if got := review(t, sa, tt.ra); got != tt.want {
			t.Errorf("%s: allowed=%t, want %t", tt.name, got, tt.want)
		}
	}
}

// review reports whether a SelfSubjectAccessReview allows ra to sa.
func review(t *testing.T, sa kubernetes.Interface, ra authzv1.ResourceAttributes) bool {
	t.Helper()
	r, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx(t), &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview: %v", err)
	}
	return r.Status.Allowed
}

// checkRefused runs each request and wants it refused (Forbidden or
// Invalid) with want in the error.
func checkRefused(t *testing.T, refused []struct {
	name, want string
	do         func() error
}) {
	t.Helper()
	for _, tt := range refused {
		err := tt.do()
		switch {
		case err == nil:
			t.Errorf("%s as the controller: allowed, want refused", tt.name)
		case !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err):
			t.Errorf("%s as the controller: %v, want refused", tt.name, err)
		case !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s as the controller: %v, want %q in the error", tt.name, err, tt.want)
		default:
			t.Logf("%s as the controller: %v", tt.name, err)
		}
	}
}

// patchSet patches "statefulsets/NAME" or "daemonsets/NAME" with cs.
func patchSet(t *testing.T, cs kubernetes.Interface, ns, what string, pt types.PatchType, patch []byte) error {
	t.Helper()
	resource, name, _ := strings.Cut(what, "/")
	var err error
	if resource == "statefulsets" {
		_, err = cs.AppsV1().StatefulSets(ns).Patch(ctx(t), name, pt, patch, metav1.PatchOptions{})
	} else {
		_, err = cs.AppsV1().DaemonSets(ns).Patch(ctx(t), name, pt, patch, metav1.PatchOptions{})
	}
	return err
}

// metaOf returns the metadata of "statefulsets/NAME" or "daemonsets/NAME".
func metaOf(t *testing.T, ns, what string) metav1.ObjectMeta {
	t.Helper()
	resource, name, _ := strings.Cut(what, "/")
	if resource == "statefulsets" {
		return sb.StatefulSet(t, ns, name).ObjectMeta
	}
	return sb.DaemonSet(t, ns, name).ObjectMeta
}

// undoPatch is the shape of the controller's undo: the generation and the
// annotations read still hold, the pod template replaced, the guard state
// written.
func undoPatch(t *testing.T, m metav1.ObjectMeta, tmpl corev1.PodTemplateSpec) []byte {
	t.Helper()
	state, err := json.Marshal(guardcontroller.State{Phase: guardcontroller.PhaseRollingBack, Revision: 2, By: "e2e", Reason: "a bad release"})
	if err != nil {
		t.Fatal(err)
	}
	var read any
	if m.Annotations != nil {
		read = m.Annotations
	}
	write := map[string]any{"op": "add", "path": "/metadata/annotations/" + strings.ReplaceAll(guardcontroller.AnnotationState, "/", "~1"), "value": string(state)}
	if _, ok := m.Annotations[guardcontroller.AnnotationState]; ok {
		write["op"] = "replace"
	} else if m.Annotations == nil {
		write = map[string]any{"op": "add", "path": "/metadata/annotations", "value": map[string]string{guardcontroller.AnnotationState: string(state)}}
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": m.Generation},
		{"op": "test", "path": "/metadata/annotations", "value": read},
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		write,
	})
	if err != nil {
		t.Fatal(err)
	}
	return patch
}

// withImage returns tmpl with image in its first container.
func withImage(tmpl corev1.PodTemplateSpec, image string) corev1.PodTemplateSpec {
	c := *tmpl.DeepCopy()
	c.Spec.Containers[0].Image = image
	return c
}

// revisionOf returns the newest ControllerRevision of the workload labelled app=name.
func revisionOf(t *testing.T, ns, name string) *appsv1.ControllerRevision {
	t.Helper()
	list, err := sb.Clientset.AppsV1().ControllerRevisions(ns).List(ctx(t), metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatalf("no controllerrevision of %s in %s", name, ns)
	}
	newest := &list.Items[0]
	for i := range list.Items {
		if list.Items[i].Revision > newest.Revision {
			newest = &list.Items[i]
		}
	}
	return newest
}

// podOf returns the first pod in ns matching selector.
func podOf(t *testing.T, ns, selector string) *corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, time.Minute, "a pod "+selector+" in "+ns, func() bool {
		pods = sb.Pods(t, ns, selector)
		return len(pods) > 0
	})
	return &pods[0]
}

// deletePod deletes pod as cs, with the UID precondition the controller uses.
func deletePod(t *testing.T, cs kubernetes.Interface, pod *corev1.Pod) error {
	t.Helper()
	return cs.CoreV1().Pods(pod.Namespace).Delete(ctx(t), pod.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(pod.UID))})
}

// statefulSetPodIn creates a one-pod StatefulSet in ns (a system
// namespace), removed at the end of the test, and returns its pod.
func statefulSetPodIn(t *testing.T, ns string) *corev1.Pod {
	t.Helper()
	name := fmt.Sprintf("rollback-e2e-%d", time.Now().UnixNano()%1000000)
	sb.CreateStatefulSet(t, ns, name, "vibestack/app:v1", sandboxenv.StatefulSetOptions{Replicas: 1, NoVolumes: true})
	t.Cleanup(func() {
		_ = sb.Clientset.AppsV1().StatefulSets(ns).Delete(ctx(t), name, metav1.DeleteOptions{})
		_ = sb.Clientset.CoreV1().Services(ns).Delete(ctx(t), name, metav1.DeleteOptions{})
	})
	return podOf(t, ns, "app="+name)
}
