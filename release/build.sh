#!/usr/bin/env bash
# release/build.sh: the release build of rollback (`make release`).
#
# For each target (default linux and darwin on amd64 and arm64) it builds a
# static binary with -trimpath -ldflags '-s -w' and the version stamped into
# internal/version, packs it with README.md (and LICENSE, when there is one)
# into rollback_VERSION_OS_ARCH.tar.gz (reproducible: sorted, fixed times and
# owners, gzip without a name or time), writes checksums.txt (SHA-256) and the
# krew manifest rollback.yaml, whose platforms point at the archives.
#
# Environment: VERSION (default v0.0.0-<commit>), DIST (default dist),
# TARGETS (default "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"),
# RELEASE_URL (where the archives are published; default the GitHub release
# of VERSION).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="${VERSION:-v0.0.0-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
dist="${DIST:-$root/dist}"
targets="${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
url="${RELEASE_URL:-https://github.com/vibestack/rollback/releases/download/$version}"
[[ $version == v* ]] || { echo "release: VERSION must start with v (semantic version, as krew requires): $version" >&2; exit 2; }

rm -rf "$dist"
mkdir -p "$dist"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
platforms=""
for target in $targets; do
	os="${target%/*}" arch="${target#*/}"
	name="rollback_${version}_${os}_${arch}"
	mkdir -p "$stage/$name"
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
		-ldflags "-s -w -X github.com/vibestack/rollback/internal/version.version=$version" \
		-o "$stage/$name/rollback" ./cmd/rollback
	# rollback helm runs in its own program (Helm's library stays out of the
	# other commands' memory); rollback finds it next to its own executable.
	CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath \
		-ldflags "-s -w -X github.com/vibestack/rollback/internal/version.version=$version" \
		-o "$stage/$name/rollback-helm" ./cmd/rollback-helm
	cp README.md "$stage/$name/"
	[[ -f LICENSE ]] && cp LICENSE "$stage/$name/"
	tar --sort=name --mtime='2000-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
		-C "$stage/$name" -cf - . | gzip -9 -n >"$dist/$name.tar.gz"
	size="$(stat -c %s "$stage/$name/rollback")" hsize="$(stat -c %s "$stage/$name/rollback-helm")"
	echo "release: $name.tar.gz (rollback $size bytes, rollback-helm $hsize bytes, archive $(stat -c %s "$dist/$name.tar.gz") bytes)"
	sum="$(sha256sum "$dist/$name.tar.gz" | cut -d' ' -f1)"
	platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $url/$name.tar.gz
    sha256: $sum
    bin: rollback
    files:
      - from: rollback
        to: .
      - from: rollback-helm
        to: .
      - from: README.md
        to: .
"
	[[ -f LICENSE ]] && platforms+="      - from: LICENSE
        to: .
"
done
(cd "$dist" && sha256sum -- *.tar.gz >checksums.txt)
awk -v version="$version" -v platforms="${platforms%$'\n'}" '
	/^#/ { next }
	{ gsub(/@VERSION@/, version) }
	/^@PLATFORMS@$/ { print platforms; next }
	{ print }
' release/krew/rollback.yaml.tmpl >"$dist/rollback.yaml"
echo "release: $dist/checksums.txt, $dist/rollback.yaml (krew manifest)"
