package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// credentials are generated at every start: bearer tokens for the admin and
// the restricted user, and the service-account signing key.
type credentials struct {
	adminToken  string
	viewerToken string
	tokenFile   string
	saKeyFile   string
}

func newCredentials(dir string) (credentials, error) {
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return credentials{}, fmt.Errorf("create pki directory: %w", err)
	}
	c := credentials{
		adminToken:  randomToken(),
		viewerToken: randomToken(),
		tokenFile:   filepath.Join(pki, "tokens.csv"),
		saKeyFile:   filepath.Join(pki, "service-account.key"),
	}
	tokens := fmt.Sprintf("%s,sandbox-admin,sandbox-admin,\"system:masters\"\n%s,%s,%s\n",
		c.adminToken, c.viewerToken, RestrictedUser, RestrictedUser)
	if err := os.WriteFile(c.tokenFile, []byte(tokens), 0o600); err != nil {
		return credentials{}, fmt.Errorf("write token file: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return credentials{}, fmt.Errorf("generate service-account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return credentials{}, fmt.Errorf("encode service-account key: %w", err)
	}
	if err := os.WriteFile(c.saKeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return credentials{}, fmt.Errorf("write service-account key: %w", err)
	}
	return c, nil
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
