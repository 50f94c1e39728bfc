package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
)

// kubelet is the API of one simulated node's kubelet, as far as the
// apiserver uses it for `kubectl logs`: GET
// /containerLogs/NAMESPACE/POD/CONTAINER with the query of PodLogOptions
// (follow, previous, timestamps, sinceSeconds, sinceTime, tailLines,
// limitBytes, stream). It serves HTTPS on NodeIP, and answers only the
// apiserver's client certificate.
type kubelet struct {
	node string
	sim  *simulator
}

// startKubelet serves node's kubelet on a free port of NodeIP until ctx
// ends and returns the port.
func startKubelet(ctx context.Context, wg *sync.WaitGroup, node string, sim *simulator, pki *kubeletPKI) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(NodeIP, "0"))
	if err != nil {
		return 0, fmt.Errorf("listen for the kubelet of %s: %w", node, err)
	}
	srv := &http.Server{
		Handler:           &kubelet{node: node, sim: sim},
		TLSConfig:         pki.serverTLS(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          klog.NewStandardLogger("INFO"),
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(tls.NewListener(l, srv.TLSConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "kubelet stopped", "node", node)
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		_ = srv.Close()
	}()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (k *kubelet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != KubeletClientCN {
		user := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			user = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=get, resource=nodes, subresource=proxy)", user), http.StatusForbidden)
		return
	}
	if r.URL.Path == "/healthz" {
		_, _ = w.Write([]byte("ok"))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/containerLogs/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || r.Method != http.MethodGet {
		http.Error(w, "404 page not found: the sandbox's kubelet serves only GET /containerLogs/NAMESPACE/POD/CONTAINER", http.StatusNotFound)
		return
	}
	k.containerLogs(w, r, parts[0], parts[1], parts[2])
}

func (k *kubelet) containerLogs(w http.ResponseWriter, r *http.Request, namespace, name, container string) {
	q, err := parseLogQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, err := k.sim.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && pod.Spec.NodeName != k.node) {
		http.Error(w, fmt.Sprintf("pod %q does not exist", name), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !hasContainer(pod, container) {
		http.Error(w, fmt.Sprintf("container %q not found in pod %q", container, name), http.StatusNotFound)
		return
	}
	id, err := logContainerID(pod, container, r.URL.Query().Get("previous") == "true")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log := k.sim.runLog(pod.UID, id)
	if log == nil {
		http.Error(w, fmt.Sprintf("container %q in pod %q: no log kept for container %s", container, name, id), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
	}
	_ = log.copyTo(r.Context(), w, flush, q)
}

// parseLogQuery reads the PodLogOptions the apiserver passes on.
func parseLogQuery(r *http.Request) (logQuery, error) {
	v := r.URL.Query()
	q := logQuery{tailLines: -1, stdout: true, stderr: true}
	var err error
	boolean := func(name string) bool {
		b, perr := strconv.ParseBool(v.Get(name))
		if v.Get(name) != "" && perr != nil && err == nil {
			err = fmt.Errorf("invalid %s %q", name, v.Get(name))
		}
		return b
	}
	integer := func(name string) int64 {
		n, perr := strconv.ParseInt(v.Get(name), 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("invalid %s %q", name, v.Get(name))
		}
		return n
	}
	q.follow, q.timestamps = boolean("follow"), boolean("timestamps")
	if v.Get("tailLines") != "" {
		q.tailLines = int(integer("tailLines"))
	}
	if v.Get("limitBytes") != "" {
		q.limitBytes = integer("limitBytes")
	}
	if v.Get("sinceSeconds") != "" {
		q.since = time.Now().Add(-time.Duration(integer("sinceSeconds")) * time.Second)
	}
	if s := v.Get("sinceTime"); s != "" {
		t, perr := time.Parse(time.RFC3339, s)
		if perr != nil && err == nil {
			err = fmt.Errorf("invalid sinceTime %q", s)
		}
		q.since = t
	}
	switch v.Get("stream") {
	case "", string(corev1.LogStreamAll):
	case string(corev1.LogStreamStdout):
		q.stderr = false
	case string(corev1.LogStreamStderr):
		q.stdout = false
	default:
		return q, fmt.Errorf("invalid stream type %q", v.Get("stream"))
	}
	return q, err
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range list {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

// logContainerID picks, as a kubelet does from the pod's status, the run
// whose log a request means: the previous (last terminated) run with
// previous, else the running one, else the last terminated one. A container
// that has never started has no log, and the error says why it is waiting.
func logContainerID(pod *corev1.Pod, container string, previous bool) (string, error) {
	var st *corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				st = &list[i]
			}
		}
	}
	if st == nil {
		return "", fmt.Errorf("container %q in pod %q is not available", container, pod.Name)
	}
	last := st.LastTerminationState.Terminated
	switch {
	case previous:
		if last == nil || last.ContainerID == "" {
			return "", fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
		}
		return last.ContainerID, nil
	case st.State.Running != nil:
		return st.ContainerID, nil
	case st.State.Terminated != nil && st.State.Terminated.ContainerID != "":
		return st.State.Terminated.ContainerID, nil
	case last != nil && last.ContainerID != "":
		return last.ContainerID, nil
	case st.State.Terminated != nil || last != nil:
		return "", fmt.Errorf("container %q in pod %q is terminated", container, pod.Name)
	case st.State.Waiting != nil:
		switch st.State.Waiting.Reason {
		case "ErrImagePull":
			return "", fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", container, pod.Name)
		case "ImagePullBackOff":
			return "", fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", container, pod.Name)
		}
		return "", fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod.Name, st.State.Waiting.Reason)
	}
	return "", fmt.Errorf("container %q in pod %q is waiting to start - no logs yet", container, pod.Name)
}
