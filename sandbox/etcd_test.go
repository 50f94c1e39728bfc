package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestPortTaken(t *testing.T) {
	opErr := &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("start etcd: %w", opErr), true},
		{errors.New("listen tcp 127.0.0.1:35777: bind: address already in use"), true},
		{errors.New("start etcd: not ready after 30s"), false},
	}
	for _, c := range cases {
		if got := portTaken(c.err); got != c.want {
			t.Errorf("portTaken(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
