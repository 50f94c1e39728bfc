package ownership

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/rest"
)

// Application is what the check needs from an Argo CD Application.
type Application struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Automated is true when automated sync is on.
	Automated bool `json:"automated"`
	// SelfHeal is true when automated sync also reverts live changes.
	SelfHeal bool `json:"selfHeal"`
}

// ApplicationReader reads Argo CD Applications. A missing Application (or
// a cluster without the Application CRD) is an error for which
// apierrors.IsNotFound is true.
type ApplicationReader interface {
	Application(ctx context.Context, namespace, name string) (*Application, error)
}

// RESTApplications reads Applications (argoproj.io/v1alpha1) through a
// REST client of the cluster, such as a clientset's CoreV1().RESTClient().
func RESTApplications(c rest.Interface) ApplicationReader { return restApplications{c} }

type restApplications struct{ c rest.Interface }

// applicationJSON is the part of an Application that is read. Argo CD 3
// adds automated.enabled; without it, an automated block means on.
type applicationJSON struct {
	Spec struct {
		SyncPolicy *struct {
			Automated *struct {
				Enabled  *bool `json:"enabled"`
				SelfHeal bool  `json:"selfHeal"`
			} `json:"automated"`
		} `json:"syncPolicy"`
	} `json:"spec"`
}

func (r restApplications) Application(ctx context.Context, namespace, name string) (*Application, error) {
	raw, err := r.c.Get().AbsPath("/apis/argoproj.io/v1alpha1/namespaces", namespace, "applications", name).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("get application %s/%s: %w", namespace, name, err)
	}
	return decodeApplication(namespace, name, raw)
}

func decodeApplication(namespace, name string, raw []byte) (*Application, error) {
	var a applicationJSON
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode application %s/%s: %w", namespace, name, err)
	}
	app := &Application{Namespace: namespace, Name: name}
	if sp := a.Spec.SyncPolicy; sp != nil && sp.Automated != nil {
		app.Automated = sp.Automated.Enabled == nil || *sp.Automated.Enabled
		app.SelfHeal = app.Automated && sp.Automated.SelfHeal
	}
	return app, nil
}
