package guardcontroller

import "testing"

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"url http://127.0.0.1:8080/healthz: HTTP 500", "url http://127.0.0.1:8080/healthz: HTTP 500"},
		{"url https://user:s3cr3t@web.example.com/ready?token=abc123#x: HTTP 401", "url https://web.example.com/ready: HTTP 401"},
		{"two: http://a/x?k=1 and https://b:9/y?k=2", "two: http://a/x and https://b:9/y"},
		{"no url at all", "no url at all"},
	}
	for _, tt := range tests {
		if got := redactURLs(tt.in); got != tt.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
