package kubeflags

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// kubectlFlags are kubectl's kubeconfig flags (`kubectl options`) with their
// shorthands; --username/--password (deprecated) and the logging and
// profiling flags are not kubeconfig flags.
var kubectlFlags = map[string]string{
	"as": "", "as-group": "", "as-uid": "", "cache-dir": "", "certificate-authority": "",
	"client-certificate": "", "client-key": "", "cluster": "", "context": "",
	"disable-compression": "", "insecure-skip-tls-verify": "", "kubeconfig": "",
	"namespace": "n", "request-timeout": "", "server": "s", "tls-server-name": "",
	"token": "", "user": "",
}

func TestFlagsMatchKubectl(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	NewConfigFlags().AddFlags(fs)
	for name, short := range kubectlFlags {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("flag --%s is missing", name)
			continue
		}
		if f.Shorthand != short {
			t.Errorf("flag --%s: shorthand %q, kubectl has %q", name, f.Shorthand, short)
		}
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: compared with the built-in list only")
	}
	out, err := exec.Command(kubectl, "options").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl options: %v\n%s", err, out)
	}
	for name := range kubectlFlags {
		if !strings.Contains(string(out), "--"+name+"=") && !strings.Contains(string(out), "--"+name+" ") && !strings.Contains(string(out), "--"+name+"\n") {
			t.Errorf("kubectl options does not list --%s: the list in this test is out of date", name)
		}
	}
}

const kubeconfig = `apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: c2
  cluster: {server: "https://two.example:6443"}
users:
- name: u1
  user: {token: "token-one"}
- name: u2
  user: {token: "token-two"}
contexts:
- name: one
  context: {cluster: c1, user: u1, namespace: ns-one}
- name: two
  context: {cluster: c2, user: u2, namespace: ns-two}
`

func TestOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                     string
		args                     []string
		wantHost, wantToken, ns  string
		wantImpersonate, wantTLS string
	}{
		{"current context", nil, "https://one.example:6443", "token-one", "ns-one", "", ""},
		{"--context", []string{"--context", "two"}, "https://two.example:6443", "token-two", "ns-two", "", ""},
		{"-n and -s", []string{"-n", "prod", "-s", "https://other:443"}, "https://other:443", "token-one", "prod", "", ""},
		{"--cluster --user --token --as", []string{"--cluster", "c2", "--user", "u2", "--token", "t3", "--as", "alice", "--tls-server-name", "api"}, "https://two.example:6443", "t3", "ns-one", "alice", "api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewConfigFlags()
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			f.AddFlags(fs)
			if err := fs.Parse(append([]string{"--kubeconfig", path}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.ToRESTConfig()
			if err != nil {
				t.Fatal(err)
			}
			ns, _, err := f.ToRawKubeConfigLoader().Namespace()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tt.wantHost || cfg.BearerToken != tt.wantToken || ns != tt.ns || cfg.Impersonate.UserName != tt.wantImpersonate || cfg.TLSClientConfig.ServerName != tt.wantTLS {
				t.Errorf("got host %q token %q ns %q as %q tls-server-name %q", cfg.Host, cfg.BearerToken, ns, cfg.Impersonate.UserName, cfg.TLSClientConfig.ServerName)
			}
		})
	}
}

func TestNoKubeconfigSaysWhatToDo(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	f := NewConfigFlags()
	_, err := f.ToRESTConfig()
	if err == nil || !strings.Contains(err.Error(), "pass --kubeconfig, set KUBECONFIG") {
		t.Fatalf("err = %v, want the what-to-do message", err)
	}
}

// TestArgsRoundTrip: the flags Args returns give another flag set the same values.
func TestArgsRoundTrip(t *testing.T) {
	src := NewConfigFlags()
	fs := pflag.NewFlagSet("src", pflag.ContinueOnError)
	src.AddFlags(fs)
	in := []string{"--kubeconfig", "/k/config", "--context=prod", "-n", "shop", "--as", "ana", "--as-group", "a", "--as-group", "b", "--insecure-skip-tls-verify", "--token", "t0k"}
	if err := fs.Parse(in); err != nil {
		t.Fatal(err)
	}
	args := src.Args()
	dst := NewConfigFlags()
	fs2 := pflag.NewFlagSet("dst", pflag.ContinueOnError)
	dst.AddFlags(fs2)
	if err := fs2.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	if *dst.KubeConfig != "/k/config" || *dst.Context != "prod" || *dst.Namespace != "shop" || *dst.Impersonate != "ana" ||
		strings.Join(*dst.ImpersonateGroup, ",") != "a,b" || !*dst.Insecure || *dst.BearerToken != "t0k" {
		t.Errorf("round trip of %v lost values: %v", in, args)
	}
	if got := NewConfigFlags().Args(); len(got) != 0 {
		t.Errorf("defaults give args %v, want none", got)
	}
}
