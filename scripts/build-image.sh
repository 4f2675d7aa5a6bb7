#!/bin/sh
# Build the Coldstart server image, tagged with the git commit, without
# pulling anything: static binaries are built here and copied into a
# FROM scratch image.
#
#   scripts/build-image.sh            # builds coldstart:<commit> and coldstart:latest
#   IMAGE=myname scripts/build-image.sh
set -eu

cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-coldstart}
COMMIT=$(git rev-parse --short=12 HEAD)
if ! git diff --quiet HEAD -- 2>/dev/null; then
	COMMIT="$COMMIT-dirty"
fi
ROOT=dist/image/rootfs
rm -rf dist/image
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/lib/coldstart" "$ROOT/etc" dist/image/data/tmp

echo "building the server (static, cgo for SQLite)…"
CGO_ENABLED=1 go build -trimpath \
	-tags 'osusergo netgo sqlite_omit_load_extension' \
	-ldflags "-s -w -linkmode external -extldflags -static" \
	-o "$ROOT/usr/local/bin/coldstart" ./cmd/coldstart

echo "building the lab programs (static, pure Go)…"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ROOT/usr/local/lib/coldstart/lab" ./exercises/labs/cmd/lab

for bin in "$ROOT/usr/local/bin/coldstart" "$ROOT/usr/local/lib/coldstart/lab"; do
	if ! file "$bin" | grep -q 'statically linked'; then
		echo "error: $bin is not statically linked:" >&2
		file "$bin" >&2
		exit 1
	fi
done

# A passwd entry for the unprivileged user, and a data directory it owns.
printf 'root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/data:/sbin/nologin\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOT/etc/group"

docker build --pull=false -t "$IMAGE:$COMMIT" -t "$IMAGE:latest" \
	--label "org.opencontainers.image.revision=$COMMIT" -f Dockerfile .
echo "built $IMAGE:$COMMIT"
