package clusterlock

import (
	"os"
	"os/user"
)

// DefaultHolder returns the identity of this process's operator as user@host,
// with "unknown" for a part that cannot be read.
func DefaultHolder() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}
