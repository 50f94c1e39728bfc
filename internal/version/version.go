// Package version reports the version of the rollback binary.
package version

import "runtime/debug"

// set by the linker: -X github.com/vibestack/rollback/internal/version.version=v1.2.3
var version string

// String returns the version set at link time, else the module version from
// the build information, else "devel".
func String() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}
