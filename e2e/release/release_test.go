//go:build e2e

// Package release_test builds the release the way `make release` does and
// installs it the way users do: the krew manifest is checked by krew's own
// validation (validate-krew-manifest) and installed by krew from a local
// archive into a temporary krew root, then run as `kubectl rollback`.
package release_test

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/clitest"
)

// krewVersion is the krew release whose validation and installer are used.
const krewVersion = "v0.4.3"

const version = "v0.0.1-e2e"

// TestReleaseAndKrewInstall builds this machine's target (every target with
// ROLLBACK_RELEASE_TARGETS="linux/amd64 linux/arm64 darwin/amd64
// darwin/arm64", as `make release` does), checks the archives, the checksums
// and the manifest, and installs the plugin with krew.
func TestReleaseAndKrewInstall(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not installed: the plugin is run as `kubectl rollback`")
	}
	targets := os.Getenv("ROLLBACK_RELEASE_TARGETS")
	if targets == "" {
		targets = runtime.GOOS + "/" + runtime.GOARCH
	}
	dist := t.TempDir()
	build := exec.Command("bash", "release/build.sh")
	build.Dir = clitest.RepoRoot()
	build.Env = append(os.Environ(), "VERSION="+version, "DIST="+dist, "TARGETS="+targets)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("release build: %v\n%s", err, out)
	} else {
		t.Logf("release build:\n%s", out)
	}

	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))
	manifest, err := os.ReadFile(filepath.Join(dist, "rollback.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range strings.Fields(targets) {
		goos, goarch, _ := strings.Cut(target, "/")
		name := "rollback_" + version + "_" + goos + "_" + goarch + ".tar.gz"
		archive := filepath.Join(dist, name)
		sum := fileSHA256(t, archive)
		if sums[name] != sum {
			t.Errorf("checksums.txt has %q for %s, the archive hashes to %s", sums[name], name, sum)
		}
		if !strings.Contains(string(manifest), "sha256: "+sum) || !strings.Contains(string(manifest), "/"+name+"\n") {
			t.Errorf("the krew manifest does not name %s with its sha256 %s:\n%s", name, sum, manifest)
		}
		files := untar(t, archive, t.TempDir())
		for _, want := range []string{"rollback", "rollback-helm", "README.md", "LICENSE"} {
			if _, ok := files[want]; !ok {
				t.Errorf("%s lacks %s (has %v)", name, want, files)
			}
		}
		if goos == "linux" {
			checkStripped(t, files["rollback"])
			checkStripped(t, files["rollback-helm"])
		}
	}

	tools := t.TempDir()
	for _, tool := range []string{"krew", "validate-krew-manifest"} {
		install := exec.Command("go", "install", "sigs.k8s.io/krew/cmd/"+tool+"@"+krewVersion)
		install.Dir = tools
		install.Env = append(os.Environ(), "GOBIN="+tools, "GOFLAGS=")
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("go install %s@%s: %v\n%s", tool, krewVersion, err, out)
		}
	}
	if err := os.Symlink(filepath.Join(tools, "krew"), filepath.Join(tools, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}

	// krew's own structural validation; its install step would download
	// the archives from their release URLs, so the install is done below
	// from the local archive instead.
	validate := exec.Command(filepath.Join(tools, "validate-krew-manifest"), "-manifest", filepath.Join(dist, "rollback.yaml"), "-skip-install")
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, out)
	}

	host := runtime.GOOS + "/" + runtime.GOARCH
	if !strings.Contains(" "+targets+" ", " "+host+" ") {
		t.Fatalf("the targets %q do not include this machine's %s: nothing to install", targets, host)
	}
	root := filepath.Join(t.TempDir(), "krew")
	home := t.TempDir()
	path := tools + string(os.PathListSeparator) + filepath.Dir(kubectl) + string(os.PathListSeparator) + "/usr/bin:/bin"
	archive := filepath.Join(dist, "rollback_"+version+"_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	install := exec.Command(kubectl, "krew", "install", "--manifest="+filepath.Join(dist, "rollback.yaml"), "--archive="+archive)
	install.Env = []string{"PATH=" + path, "HOME=" + home, "KREW_ROOT=" + root}
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("kubectl krew install: %v\n%s", err, out)
	}

	run := exec.Command(kubectl, "rollback", "--version")
	run.Env = []string{"PATH=" + filepath.Join(root, "bin") + string(os.PathListSeparator) + path, "HOME=" + home}
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl rollback --version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "rollback version "+version; got != want {
		t.Errorf("kubectl rollback --version = %q, want %q", got, want)
	}
	// rollback helm runs rollback-helm, found next to the plugin's
	// executable through krew's symlink.
	helm := exec.Command(kubectl, "rollback", "helm", "--help")
	helm.Env = run.Env
	if out, err := helm.CombinedOutput(); err != nil || !strings.Contains(string(out), "history") {
		t.Errorf("kubectl rollback helm --help: %v\n%s", err, out)
	}
	kv, _ := exec.Command(kubectl, "version", "--client").CombinedOutput()
	t.Logf("installed with krew %s, run by %s", krewVersion, strings.TrimSpace(string(kv)))
}

func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if sum, name, ok := strings.Cut(line, "  "); ok {
			sums[name] = sum
		}
	}
	return sums
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// untar extracts the regular files of a tar.gz archive into dir and returns
// their paths by name.
func untar(t *testing.T, archive, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := filepath.Base(h.Name)
		out, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
		files[name] = filepath.Join(dir, name)
	}
}

// checkStripped: -ldflags '-s -w' leaves no symbol table and no DWARF.
func checkStripped(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is not an ELF binary: %v", path, err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") {
			t.Errorf("%s has section %s: not built with -ldflags '-s -w'", path, s.Name)
		}
	}
}
