package evidence

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	restclient "k8s.io/client-go/rest"
	fakerest "k8s.io/client-go/rest/fake"

	"github.com/vibestack/rollback/pkg/rollout"
)

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// cluster is a fake namespace "shop" with Deployment web: revision 1
// (v1, known good) and revision 2 (the current one, given image), and the
// pods the test adds.
type cluster struct {
	cs   *fake.Clientset
	d    *appsv1.Deployment
	rss  []*appsv1.ReplicaSet
	logs map[string]string // pod/container[/previous] -> log

	mu    sync.Mutex
	reads int           // pods/log requests served
	delay time.Duration // how long each takes
}

func newCluster(image string) *cluster {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "dep-uid", Generation: 2, Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2", "kubectl.kubernetes.io/last-applied-configuration": `{"env":"SECRET_VALUE"}`}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate(image)},
	}
	c := &cluster{d: d, logs: map[string]string{}}
	c.rss = []*appsv1.ReplicaSet{c.replicaSet(1, "example/web:v1", true), c.replicaSet(2, image, false)}
	objs := []runtime.Object{d, c.rss[0], c.rss[1]}
	c.cs = fake.NewClientset(objs...)
	return c
}

// clients are the namespace's clients; pods/log is answered from c.logs.
func (c *cluster) clients() rollout.Clients {
	cl := rollout.NewClients(c.cs, "shop")
	cl.Pods = logPods{PodInterface: cl.Pods, c: c}
	return cl
}

// logPods serves GetLogs from the cluster's logs: key pod/container, with
// /previous for the previous run; a missing key is a 400 like the kubelet's.
type logPods struct {
	corev1client.PodInterface
	c *cluster
}

func (p logPods) GetLogs(name string, opts *corev1.PodLogOptions) *restclient.Request {
	key := name + "/" + opts.Container
	if opts.Previous {
		key += "/previous"
	}
	c := p.c
	rc := &fakerest.RESTClient{
		Client: fakerest.CreateHTTPClient(func(req *http.Request) (*http.Response, error) {
			c.mu.Lock()
			c.reads++
			delay := c.delay
			log, ok := c.logs[key]
			c.mu.Unlock()
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			if !ok {
				body := `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"container \"app\" in pod \"` + name + `\" is waiting to start","reason":"BadRequest","code":400}`
				return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": []string{"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
			}
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(log))}, nil
		}),
		NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		GroupVersion:         corev1.SchemeGroupVersion,
		VersionedAPIPath:     "/api/v1/namespaces/shop/pods/" + name + "/log",
	}
	return rc.Request()
}

func podTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image,
			Env: []corev1.EnvVar{{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "web-secret"}, Key: "k"}}},
				{Name: "MODE", Value: image}}}}},
	}
}

func (c *cluster) replicaSet(n int, image string, good bool) *appsv1.ReplicaSet {
	hash := fmt.Sprintf("h%d", n)
	tmpl := podTemplate(image)
	tmpl.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "shop", UID: types.UID("rs-" + hash),
			Labels:            map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash},
			CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(n) * time.Minute)),
			Annotations:       map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(n)},
			OwnerReferences:   []metav1.OwnerReference{*metav1.NewControllerRef(c.d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Template: tmpl},
	}
	if good {
		rs.Annotations[rollout.AnnotationKnownGoodAt] = t0.Add(time.Duration(n)*time.Minute + 30*time.Second).Format(time.RFC3339Nano)
		rs.Annotations[rollout.AnnotationKnownGoodHash] = hash
		rs.Annotations[rollout.AnnotationKnownGoodBy] = "test"
	}
	return rs
}

// pod adds a pod of revision n (1 or 2) in the given state.
func (c *cluster) pod(name string, n int, ready bool, st corev1.ContainerStatus) *corev1.Pod {
	rs := c.rss[n-1]
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: rs.Spec.Template.Labels,
			CreationTimestamp: metav1.NewTime(rs.CreationTimestamp.Add(time.Second)),
			OwnerReferences:   []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
		Spec: rs.Spec.Template.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: ptr(metav1.NewTime(rs.CreationTimestamp.Add(2 * time.Second))),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: boolCond(ready)}}},
	}
	st.Name = "app"
	st.Ready = ready
	p.Status.ContainerStatuses = []corev1.ContainerStatus{st}
	if err := c.cs.Tracker().Add(p); err != nil {
		panic(err)
	}
	return p
}

func boolCond(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func (c *cluster) event(obj, kind, typ, reason, msg string, at time.Time) {
	e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: obj + "." + reason, Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: obj, Namespace: "shop"}, Type: typ, Reason: reason, Message: msg,
		FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at), Count: 1, Source: corev1.EventSource{Component: "test"}}
	if err := c.cs.Tracker().Add(e); err != nil {
		panic(err)
	}
}

func crashing(restarts int32, finished time.Time) corev1.ContainerStatus {
	return corev1.ContainerStatus{RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5s"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1,
			StartedAt: metav1.NewTime(finished.Add(-time.Second)), FinishedAt: metav1.NewTime(finished)}}}
}

func running(at time.Time) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(at)}}}
}

func configError(msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: msg}}}
}

func stamp(t time.Time, line string) string { return t.UTC().Format(time.RFC3339Nano) + " " + line }

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
