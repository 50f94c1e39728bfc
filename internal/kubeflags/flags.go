// Package kubeflags binds the kubeconfig flags kubectl users know
// (--kubeconfig, --context, -n/--namespace, --server, --token, --as, ...)
// to client-go's clientcmd loading rules and overrides.
//
// It is the flag set of k8s.io/cli-runtime's genericclioptions.ConfigFlags,
// with the same names, help and precedence, built directly on clientcmd.
// genericclioptions links k8s.io/cli-runtime/pkg/resource (and through it
// kustomize and the OpenAPI parsers), which costs about 25 MB of resident
// memory at every start of the binary, before any flag is read.
//
// One difference on purpose: with no kubeconfig (and not in a pod) kubectl
// falls back to http://localhost:8080 and reports "connection refused";
// here the error says that no kubeconfig was found and how to give one.
package kubeflags

import (
	"fmt"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ConfigFlags holds the kubeconfig flags. A nil field is a flag that is not
// bound; NewConfigFlags binds them all.
type ConfigFlags struct {
	KubeConfig *string
	// CacheDir is accepted for kubectl compatibility; rollback makes no
	// discovery requests and caches nothing, so it has no default (which
	// would also put the user's home directory into the help text).
	CacheDir *string

	ClusterName  *string
	AuthInfoName *string
	Context      *string
	Namespace    *string

	APIServer          *string
	TLSServerName      *string
	Insecure           *bool
	CAFile             *string
	DisableCompression *bool
	ProxyURL           *string

	CertFile             *string
	KeyFile              *string
	BearerToken          *string
	Impersonate          *string
	ImpersonateUID       *string
	ImpersonateGroup     *[]string
	ImpersonateUserExtra *[]string

	Timeout *string

	mu     sync.Mutex
	loader clientcmd.ClientConfig
}

// NewConfigFlags returns every flag bound, with kubectl's defaults.
func NewConfigFlags() *ConfigFlags {
	str := func(s string) *string { return &s }
	f := false
	g := false
	return &ConfigFlags{
		KubeConfig:           str(""),
		CacheDir:             str(""),
		ClusterName:          str(""),
		AuthInfoName:         str(""),
		Context:              str(""),
		Namespace:            str(""),
		APIServer:            str(""),
		TLSServerName:        str(""),
		Insecure:             &f,
		CAFile:               str(""),
		DisableCompression:   &g,
		ProxyURL:             str(""),
		CertFile:             str(""),
		KeyFile:              str(""),
		BearerToken:          str(""),
		Impersonate:          str(""),
		ImpersonateUID:       str(""),
		ImpersonateGroup:     &[]string{},
		ImpersonateUserExtra: &[]string{},
		Timeout:              str("0"),
	}
}

// annotation marks the flags AddFlags binds, so that help can list them
// apart (`rollback options`, as `kubectl options` does).
const annotation = "rollback.vibestack.dev/kubeconfig-flag"

// IsConfigFlag reports whether f is one of the kubeconfig flags AddFlags binds.
func IsConfigFlag(f *pflag.Flag) bool {
	_, ok := f.Annotations[annotation]
	return ok
}

// AddFlags binds the non-nil fields to flags, with kubectl's names and help,
// each marked so that IsConfigFlag recognises it.
func (f *ConfigFlags) AddFlags(flags *pflag.FlagSet) {
	mark := func(name string) {
		_ = flags.SetAnnotation(name, annotation, []string{"true"})
	}
	str := func(p *string, name, short, usage string) {
		if p != nil {
			flags.StringVarP(p, name, short, *p, usage)
			mark(name)
		}
	}
	boolean := func(p *bool, name, usage string) {
		if p != nil {
			flags.BoolVar(p, name, *p, usage)
			mark(name)
		}
	}
	array := func(p *[]string, name, usage string) {
		if p != nil {
			flags.StringArrayVar(p, name, *p, usage)
			mark(name)
		}
	}
	str(f.KubeConfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests.")
	str(f.CacheDir, "cache-dir", "", "Cache directory (accepted for kubectl compatibility; rollback caches nothing)")
	str(f.CertFile, "client-certificate", "", "Path to a client certificate file for TLS")
	str(f.KeyFile, "client-key", "", "Path to a client key file for TLS")
	str(f.BearerToken, "token", "", "Bearer token for authentication to the API server")
	str(f.Impersonate, "as", "", "Username to impersonate for the operation. User could be a regular user or a service account in a namespace.")
	str(f.ImpersonateUID, "as-uid", "", "UID to impersonate for the operation.")
	array(f.ImpersonateGroup, "as-group", "Group to impersonate for the operation, this flag can be repeated to specify multiple groups.")
	array(f.ImpersonateUserExtra, "as-user-extra", "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
	str(f.ClusterName, "cluster", "", "The name of the kubeconfig cluster to use")
	str(f.AuthInfoName, "user", "", "The name of the kubeconfig user to use")
	str(f.Namespace, "namespace", "n", "If present, the namespace scope for this CLI request")
	str(f.Context, "context", "", "The name of the kubeconfig context to use")
	str(f.APIServer, "server", "s", "The address and port of the Kubernetes API server")
	str(f.TLSServerName, "tls-server-name", "", "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used")
	boolean(f.Insecure, "insecure-skip-tls-verify", "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure")
	str(f.CAFile, "certificate-authority", "", "Path to a cert file for the certificate authority")
	str(f.Timeout, "request-timeout", "", "The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests.")
	boolean(f.DisableCompression, "disable-compression", "If true, opt-out of response compression for all requests to the server")
	str(f.ProxyURL, "proxy-url", "", "Proxy URL to use for requests to the API server")
}

// ToRESTConfig returns the client configuration the kubeconfig and the
// flags select.
func (f *ConfigFlags) ToRESTConfig() (*rest.Config, error) {
	return f.ToRawKubeConfigLoader().ClientConfig()
}

// ToRawKubeConfigLoader returns the kubeconfig loader with the flags as
// overrides. It is built once, after the flags are parsed, and reused.
func (f *ConfigFlags) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loader == nil {
		f.loader = explained{clientcmd.NewNonInteractiveDeferredLoadingClientConfig(f.loadingRules(), f.overrides())}
	}
	return f.loader
}

func (f *ConfigFlags) loadingRules() *clientcmd.ClientConfigLoadingRules {
	// Unlike kubectl, no fallback to http://localhost:8080: without a
	// kubeconfig (and outside a pod) the error says what to do instead of
	// "connection refused".
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	set(&rules.ExplicitPath, f.KubeConfig)
	return rules
}

func (f *ConfigFlags) overrides() *clientcmd.ConfigOverrides {
	o := &clientcmd.ConfigOverrides{}
	if f.CertFile != nil {
		o.AuthInfo.ClientCertificate = *f.CertFile
	}
	if f.KeyFile != nil {
		o.AuthInfo.ClientKey = *f.KeyFile
	}
	if f.BearerToken != nil {
		o.AuthInfo.Token = *f.BearerToken
	}
	set(&o.AuthInfo.Impersonate, f.Impersonate)
	set(&o.AuthInfo.ImpersonateUID, f.ImpersonateUID)
	if f.ImpersonateGroup != nil {
		o.AuthInfo.ImpersonateGroups = *f.ImpersonateGroup
	}
	if f.ImpersonateUserExtra != nil && len(*f.ImpersonateUserExtra) > 0 {
		extra := map[string][]string{}
		for _, kv := range *f.ImpersonateUserExtra {
			if k, v, ok := strings.Cut(kv, "="); ok {
				extra[k] = append(extra[k], v)
			}
		}
		o.AuthInfo.ImpersonateUserExtra = extra
	}
	set(&o.ClusterInfo.Server, f.APIServer)
	set(&o.ClusterInfo.TLSServerName, f.TLSServerName)
	set(&o.ClusterInfo.CertificateAuthority, f.CAFile)
	if f.Insecure != nil {
		o.ClusterInfo.InsecureSkipTLSVerify = *f.Insecure
	}
	if f.DisableCompression != nil {
		o.ClusterInfo.DisableCompression = *f.DisableCompression
	}
	set(&o.ClusterInfo.ProxyURL, f.ProxyURL)
	set(&o.CurrentContext, f.Context)
	set(&o.Context.Cluster, f.ClusterName)
	set(&o.Context.AuthInfo, f.AuthInfoName)
	set(&o.Context.Namespace, f.Namespace)
	set(&o.Timeout, f.Timeout)
	return o
}

func set(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

// ErrNoKubeconfig replaces client-go's "no configuration has been provided"
// with what to do about it.
var ErrNoKubeconfig = clientcmd.NewEmptyConfigError("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or write ~/.kube/config (`kubectl config view` shows what kubectl uses)")

// explained is a ClientConfig whose empty-config error says what to do.
type explained struct{ inner clientcmd.ClientConfig }

func explain(err error) error {
	if clientcmd.IsEmptyConfig(err) {
		return fmt.Errorf("%w", ErrNoKubeconfig)
	}
	return err
}

// RawConfig returns the merged kubeconfig.
func (e explained) RawConfig() (clientcmdapi.Config, error) {
	c, err := e.inner.RawConfig()
	return c, explain(err)
}

// ClientConfig returns the REST configuration.
func (e explained) ClientConfig() (*rest.Config, error) {
	c, err := e.inner.ClientConfig()
	return c, explain(err)
}

// Namespace returns the namespace of the flags or the current context.
func (e explained) Namespace() (string, bool, error) {
	ns, overridden, err := e.inner.Namespace()
	return ns, overridden, explain(err)
}

// ConfigAccess returns where the kubeconfig is read from.
func (e explained) ConfigAccess() clientcmd.ConfigAccess { return e.inner.ConfigAccess() }

// ForContext returns the kubeconfig loader of the flags for another
// context and namespace: every flag (--server, --token, --as, --user,
// --request-timeout, --insecure-skip-tls-verify, ...) applies as it does to
// the flags' own context; only the context (when contextName is not empty,
// over --context) and the namespace (when namespace is not empty, over
// -n) are replaced. A runbook naming several clusters reaches each of them
// with the flags the user gave.
func (f *ConfigFlags) ForContext(contextName, namespace string) clientcmd.ClientConfig {
	o := f.overrides()
	if contextName != "" {
		o.CurrentContext = contextName
	}
	if namespace != "" {
		o.Context.Namespace = namespace
	}
	return explained{clientcmd.NewNonInteractiveDeferredLoadingClientConfig(f.loadingRules(), o)}
}

// Args returns the flags whose values differ from kubectl's defaults as
// --name=value arguments: the same cluster access for another program
// (rollback-helm) that binds these flags.
func (f *ConfigFlags) Args() []string {
	set := pflag.NewFlagSet("set", pflag.ContinueOnError)
	f.AddFlags(set)
	def := pflag.NewFlagSet("default", pflag.ContinueOnError)
	NewConfigFlags().AddFlags(def)
	var out []string
	set.VisitAll(func(fl *pflag.Flag) {
		d := def.Lookup(fl.Name)
		if d == nil || fl.Value.String() == d.Value.String() {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				out = append(out, "--"+fl.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+fl.Name+"="+fl.Value.String())
	})
	return out
}
