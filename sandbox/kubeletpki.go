package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// KubeletClientCN is the common name of the client certificate the
// apiserver presents to the simulated kubelets; they refuse any other.
const KubeletClientCN = "kube-apiserver-kubelet-client"

// kubeletPKI is the TLS material between the apiserver and the simulated
// kubelets, generated at every start: a CA, the kubelets' serving
// certificate for 127.0.0.1 and the apiserver's client certificate. The
// apiserver verifies the kubelets against the CA
// (--kubelet-certificate-authority) and the kubelets require a client
// certificate signed by it with CN KubeletClientCN.
type kubeletPKI struct {
	caFile, clientCertFile, clientKeyFile string
	serving                               tls.Certificate
	clientCAs                             *x509.CertPool
}

func newKubeletPKI(dir string, nodes []string) (*kubeletPKI, error) {
	pki := filepath.Join(dir, "pki", "kubelet")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return nil, fmt.Errorf("create kubelet pki directory: %w", err)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate kubelet CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rollback-sandbox-kubelet-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create kubelet CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse kubelet CA: %w", err)
	}
	issue := func(serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
	}
	servingCert, servingKey, err := issue(2, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "rollback-sandbox-kubelet"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    append([]string{"localhost"}, nodes...),
	})
	if err != nil {
		return nil, fmt.Errorf("issue kubelet serving certificate: %w", err)
	}
	clientCert, clientKey, err := issue(3, &x509.Certificate{
		Subject:     pkix.Name{CommonName: KubeletClientCN, Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("issue apiserver kubelet-client certificate: %w", err)
	}
	p := &kubeletPKI{
		caFile:         filepath.Join(pki, "ca.crt"),
		clientCertFile: filepath.Join(pki, "apiserver-kubelet-client.crt"),
		clientKeyFile:  filepath.Join(pki, "apiserver-kubelet-client.key"),
		clientCAs:      x509.NewCertPool(),
	}
	p.clientCAs.AddCert(ca)
	for path, data := range map[string][]byte{
		p.caFile:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		p.clientCertFile: clientCert,
		p.clientKeyFile:  clientKey,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if p.serving, err = tls.X509KeyPair(servingCert, servingKey); err != nil {
		return nil, fmt.Errorf("load kubelet serving certificate: %w", err)
	}
	return p, nil
}

// serverTLS is the kubelets' TLS configuration: their serving certificate,
// and a client certificate signed by the kubelet CA required.
func (p *kubeletPKI) serverTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.serving},
		ClientCAs:    p.clientCAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}
