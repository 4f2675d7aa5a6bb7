#!/bin/sh
# Grades the built-in course inside the server image, the way the README
# runs it: as the image's unprivileged user, with the Docker socket mounted
# and its group added. `coldstart check` grades every exercise's reference
# answer and every known-wrong answer and fails unless each verdict is the
# expected one, so the verdicts inside the image are those of the host.
#
#   scripts/build-image.sh && scripts/grade-in-image.sh
#   IMAGE=coldstart:abc123 scripts/grade-in-image.sh
set -eu

cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-coldstart:latest}
SOCK=${DOCKER_SOCKET:-/var/run/docker.sock}
if [ ! -S "$SOCK" ]; then
	echo "error: $SOCK is not a socket; set DOCKER_SOCKET to the engine's socket" >&2
	exit 1
fi
GID=$(stat -c %g "$SOCK")
echo "grading the built-in course in $IMAGE as uid 65534 with group $GID…"
docker run --rm --network none \
	-v "$SOCK:/var/run/docker.sock" --group-add "$GID" \
	"$IMAGE" check
