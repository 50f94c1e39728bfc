package ownership

// The labels and annotations owners put on what they manage.
const (
	// LabelManagedBy is app.kubernetes.io/managed-by; Helm sets it to "Helm".
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelInstance is app.kubernetes.io/instance: Argo CD's tracking label
	// (method "label" and "annotation+label"), also set by most Helm charts.
	LabelInstance = "app.kubernetes.io/instance"
	// LabelArgoInstance is the tracking label many Argo CD installations
	// configure instead of app.kubernetes.io/instance.
	LabelArgoInstance = "argocd.argoproj.io/instance"
	// AnnotationArgoTrackingID is Argo CD's tracking annotation (methods
	// "annotation" and "annotation+label"): APP:GROUP/KIND:NAMESPACE/NAME.
	AnnotationArgoTrackingID = "argocd.argoproj.io/tracking-id"
	// argoAnnotationPrefix starts every annotation Argo CD puts on objects.
	argoAnnotationPrefix = "argocd.argoproj.io/"

	// LabelFluxKustomizationName and LabelFluxKustomizationNamespace name
	// the Flux Kustomization that applied an object.
	LabelFluxKustomizationName      = "kustomize.toolkit.fluxcd.io/name"
	LabelFluxKustomizationNamespace = "kustomize.toolkit.fluxcd.io/namespace"
	// LabelFluxHelmReleaseName and LabelFluxHelmReleaseNamespace name the
	// Flux HelmRelease that installed an object.
	LabelFluxHelmReleaseName      = "helm.toolkit.fluxcd.io/name"
	LabelFluxHelmReleaseNamespace = "helm.toolkit.fluxcd.io/namespace"
	// AnnotationFluxReconcile set to "disabled" stops Flux's
	// kustomize-controller from reconciling that one object.
	AnnotationFluxReconcile = "kustomize.toolkit.fluxcd.io/reconcile"

	// AnnotationHelmReleaseName and AnnotationHelmReleaseNamespace name the
	// Helm release an object belongs to; Helm writes them at install,
	// upgrade and rollback.
	AnnotationHelmReleaseName      = "meta.helm.sh/release-name"
	AnnotationHelmReleaseNamespace = "meta.helm.sh/release-namespace"

	// DefaultArgoNamespace is where Argo CD keeps its Applications unless
	// it is installed elsewhere.
	DefaultArgoNamespace = "argocd"
)
