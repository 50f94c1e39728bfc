//go:build e2e

package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// endpointURL waits for the Service's URL in endpoints.json.
func endpointURL(t *testing.T, ns, name string) string {
	t.Helper()
	var url string
	eventually(t, 10*time.Second, "endpoint for service "+ns+"/"+name, func(context.Context) (bool, error) {
		data, err := os.ReadFile(sb.EndpointsFile)
		if err != nil {
			return false, err
		}
		var urls map[string]string
		if err := json.Unmarshal(data, &urls); err != nil {
			return false, err
		}
		url = urls[ns+"/"+name]
		return url != "", nil
	})
	return url
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// waitAnswers waits until several requests in a row answer code with a body
// containing want.
func waitAnswers(t *testing.T, url string, code int, want string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%s answers %d %q", url, code, want), func(context.Context) (bool, error) {
		for range 6 {
			got, body, err := get(url)
			if err != nil {
				return false, err
			}
			if got != code || !strings.Contains(body, want) {
				return false, fmt.Errorf("got %d %q", got, body)
			}
		}
		return true, nil
	})
}

func TestServiceEndpoint(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", "example/web:v1", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Clientset.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	url := endpointURL(t, ns, "web")
	waitRolledOut(t, ns, "web")
	waitAnswers(t, url, http.StatusOK, "example/web:v1")

	setImage(t, ns, "web", "example/web:http500-v2")
	waitRolledOut(t, ns, "web")
	waitAnswers(t, url, http.StatusInternalServerError, "example/web:http500-v2")

	setImage(t, ns, "web", "example/web:v1")
	waitRolledOut(t, ns, "web")
	waitAnswers(t, url, http.StatusOK, "example/web:v1")

	code, metrics, err := get(url + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	for _, want := range []string{
		"# TYPE http_requests_total counter",
		`http_requests_total{code="200",version="v1"}`,
		`http_requests_total{code="500",version="http500-v2"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	if err := sb.Clientset.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "endpoint removed with its service", func(context.Context) (bool, error) {
		data, err := os.ReadFile(sb.EndpointsFile)
		if err != nil {
			return false, err
		}
		return !strings.Contains(string(data), `"`+ns+`/web"`), nil
	})
}
