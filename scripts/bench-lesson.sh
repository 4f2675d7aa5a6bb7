#!/bin/bash
# Benchmark: a lesson page viewed by a signed-in user, served by coldstart,
# side by side with nginx serving the same rendered page as a static file,
# both over loopback at 32 connections, in the same run. Also reports the
# server's RSS under that load and the time from start to /healthz 200.
#
#   scripts/bench-lesson.sh [LESSON] [DURATION]
# Needs: go, nginx, wrk, curl, python3 (apt-get install -y nginx wrk curl).
set -euo pipefail

cd "$(dirname "$0")/.."
LESSON=${1:-fargate-task-definitions}
DURATION=${2:-10s}
CONNS=32
THREADS=2
CS_PORT=${CS_PORT:-18181}
NGINX_PORT=${NGINX_PORT:-18182}
for tool in nginx wrk curl python3; do
	command -v "$tool" >/dev/null || { echo "bench-lesson: $tool is missing (apt-get install -y nginx wrk curl python3)" >&2; exit 1; }
done

WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx workers read the page as an unprivileged user
CS_PID=""
cleanup() {
	[ -n "$CS_PID" ] && kill "$CS_PID" 2>/dev/null && wait "$CS_PID" 2>/dev/null || true
	[ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/coldstart" ./cmd/coldstart

# Start the server and time it until /healthz answers 200.
read -r CS_PID READY_MS < <(python3 - "$WORK" "$CS_PORT" <<'PY'
import http.client, os, subprocess, sys, time
work, port = sys.argv[1], int(sys.argv[2])
log = open(os.path.join(work, "server.log"), "wb")
start = time.monotonic()
p = subprocess.Popen([os.path.join(work, "coldstart"), "serve", "--addr", "127.0.0.1:%d" % port,
                      "--db", os.path.join(work, "bench.db")], stdout=log, stderr=subprocess.STDOUT,
                     start_new_session=True)
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/healthz")
        if c.getresponse().status == 200:
            break
    except OSError:
        pass
    if p.poll() is not None or time.monotonic() - start > 30:
        sys.exit("the server did not become healthy")
    time.sleep(0.002)
print(p.pid, round((time.monotonic() - start) * 1000))
PY
)
BASE="http://127.0.0.1:$CS_PORT"

# Sign up, and keep the session cookie.
JAR="$WORK/cookies"
CSRF=$(curl -s -c "$JAR" "$BASE/signup" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$CSRF" --data-urlencode "email=bench@example.com" \
	--data-urlencode "password=benchmark password" "$BASE/signup"
SESSION=$(awk '$6 == "coldstart_session" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "bench-lesson: sign-up failed" >&2; exit 1; }
COOKIE="coldstart_session=$SESSION"

# The same page, rendered for this user, as nginx's static file.
mkdir -p "$WORK/www"
curl -sf -H "Cookie: $COOKIE" "$BASE/lessons/$LESSON" -o "$WORK/www/lesson.html"
grep -q "bench@example.com" "$WORK/www/lesson.html" || { echo "bench-lesson: the page is not the signed-in view" >&2; exit 1; }
SIZE=$(stat -c %s "$WORK/www/lesson.html")
cat > "$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	client_body_temp_path $WORK/nginx-tmp;
	proxy_temp_path $WORK/nginx-tmp;
	fastcgi_temp_path $WORK/nginx-tmp;
	uwsgi_temp_path $WORK/nginx-tmp;
	scgi_temp_path $WORK/nginx-tmp;
	types { text/html html; }
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $WORK/www;
	}
}
NGINX
mkdir -p "$WORK/nginx-tmp"
nginx -c "$WORK/nginx.conf"
sleep 0.3

bench() { # name url [cookie]
	local out
	if [ -n "${3:-}" ]; then
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $3" "$2")
	else
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$2")
	fi
	echo "$out" > "$WORK/wrk-$1.txt"
	local rps p99 errs
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
	echo "$rps $p99 ${errs:-0}"
}

# Warm up both, then measure.
wrk -t1 -c4 -d2s -H "Cookie: $COOKIE" "$BASE/lessons/$LESSON" >/dev/null
wrk -t1 -c4 -d2s "http://127.0.0.1:$NGINX_PORT/lesson.html" >/dev/null
read -r NG_RPS NG_P99 NG_ERR < <(bench nginx "http://127.0.0.1:$NGINX_PORT/lesson.html")
read -r CS_RPS CS_P99 CS_ERR < <(bench coldstart "$BASE/lessons/$LESSON" "$COOKIE")
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$CS_PID/status")

RATIO=$(python3 -c "print(round(100*$CS_RPS/$NG_RPS))")
echo
echo "lesson /lessons/$LESSON, $SIZE bytes, signed-in user, $CONNS connections, $THREADS wrk threads, $DURATION, $(nproc) cores"
printf '%-10s %12s %10s %8s\n' server "requests/s" p99 non-2xx
printf '%-10s %12s %10s %8s\n' nginx "$NG_RPS" "$NG_P99" "$NG_ERR"
printf '%-10s %12s %10s %8s\n' coldstart "$CS_RPS" "$CS_P99" "$CS_ERR"
echo "coldstart/nginx requests/s: $RATIO% (target >= 50%)"
echo "coldstart peak RSS under load: $((RSS_KB / 1024)) MiB (target <= 100)"
echo "coldstart serve start to /healthz 200: ${READY_MS} ms (target <= 300)"
