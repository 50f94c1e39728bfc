package safehttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestBodiesAreCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := MaxBody
		if r.URL.Path == "/big" {
			n++
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	defer srv.Close()
	c := NewClient(0)
	for path, wantErr := range map[string]bool{"/exact": false, "/big": true} {
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantErr != errors.Is(err, ErrBodyTooLarge) || len(b) > MaxBody {
			t.Errorf("%s: read %d bytes, err %v", path, len(b), err)
		}
	}
}

func TestForbidden(t *testing.T) {
	for h, want := range map[string]bool{
		"169.254.169.254": true, "[fe80::1]": true, "fd00:ec2::254": true, "0.0.0.0": true, "::ffff:169.254.169.254": true,
		"metadata.google.internal": true, "Metadata.Google.Internal.": true, "100.100.100.200": true,
		"10.0.0.1": false, "127.0.0.1": false, "web.shop.svc": false,
	} {
		if got := ForbiddenHost(h); got != want {
			t.Errorf("ForbiddenHost(%s) = %t, want %t", h, got, want)
		}
	}
	if !Forbidden(netip.MustParseAddr("169.254.1.2")) {
		t.Error("link-local not forbidden")
	}
}

// TestGuardedClientRefusesRedirects: a redirect to a target the policy
// refuses is not followed.
func TestGuardedClientRefusesRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}
	}))
	defer srv.Close()
	c := NewGuardedClient(0, func(u *url.URL) error {
		if u.Path == "/elsewhere" {
			return errors.New("not allowed")
		}
		return nil
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/", nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "redirect refused") {
		t.Fatalf("err %v, want the redirect refused", err)
	}
	// The dial hook refuses link-local addresses even when a URL names one.
	if _, err := c.Get("http://169.254.169.254/latest/meta-data/"); err == nil || !strings.Contains(err.Error(), "never contacted") {
		t.Fatalf("err %v, want the metadata address refused", err)
	}
}
