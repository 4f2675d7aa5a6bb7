#!/bin/bash
# Benchmark: a lesson page served by coldstart, to a signed-in student and to
# an anonymous visitor, side by side with nginx serving the same bytes as
# static files. Both over loopback at 32 connections, in the same run, in
# alternating rounds (nginx, coldstart, nginx, coldstart, ...), with
# coldstart's access log on. Also reports the server's peak RSS under that
# load, the time from start to /healthz 200, and the load average, since
# a busy machine moves every figure. After the measured rounds, one more
# signed-in run is profiled through the operations listener and the
# profile's top entries are printed (PROFILE=0 leaves this out; the profile
# is kept when PROFILE_OUT names a file).
#
#   scripts/bench-lesson.sh [LESSON] [DURATION] [ROUNDS]
# Needs: go, nginx, wrk, curl, python3 (apt-get install -y nginx wrk curl).
set -euo pipefail

cd "$(dirname "$0")/.."
LESSON=${1:-fargate-task-definitions}
DURATION=${2:-10s}
ROUNDS=${3:-3}
CONNS=32
THREADS=2
CS_PORT=${CS_PORT:-18181}
NGINX_PORT=${NGINX_PORT:-18182}
OPS_PORT=${OPS_PORT:-18183}
PROFILE=${PROFILE:-1}
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
read -r CS_PID READY_MS < <(python3 - "$WORK" "$CS_PORT" "$OPS_PORT" <<'PY'
import http.client, os, subprocess, sys, time
work, port, ops_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
log = open(os.path.join(work, "server.log"), "wb")
start = time.monotonic()
p = subprocess.Popen([os.path.join(work, "coldstart"), "serve", "--addr", "127.0.0.1:%d" % port, "--nats-listen", "off",
                      "--db", os.path.join(work, "bench.db"), "--signup", "open",
                      "--metrics-addr", "127.0.0.1:%d" % ops_port], stdout=log, stderr=subprocess.STDOUT,
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
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "email=bench@example.com" \
	--data-urlencode "password=benchmark password" "$BASE/signup"
SESSION=$(awk '$6 == "coldstart_session" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "bench-lesson: sign-up failed" >&2; exit 1; }
COOKIE="coldstart_session=$SESSION"

# The same pages, as coldstart renders them, as nginx's static files.
mkdir -p "$WORK/www"
curl -sf -H "Cookie: $COOKIE" "$BASE/lessons/$LESSON" -o "$WORK/www/signed-in.html"
grep -q "bench@example.com" "$WORK/www/signed-in.html" || { echo "bench-lesson: the page is not the signed-in view" >&2; exit 1; }
curl -sf "$BASE/lessons/$LESSON" -o "$WORK/www/anonymous.html"
grep -q "bench@example.com" "$WORK/www/anonymous.html" && { echo "bench-lesson: the anonymous page shows the user" >&2; exit 1; }
SIZE_IN=$(stat -c %s "$WORK/www/signed-in.html")
SIZE_ANON=$(stat -c %s "$WORK/www/anonymous.html")
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

# The server's CPU time (user + system) in clock ticks: per request it
# moves much less with the machine's load than requests/s do.
server_cpu() { awk '{print $14 + $15}' "/proc/$CS_PID/stat"; }

# Warm up both, then measure in alternating rounds.
NG="http://127.0.0.1:$NGINX_PORT"
wrk -t1 -c4 -d2s -H "Cookie: $COOKIE" "$BASE/lessons/$LESSON" >/dev/null
wrk -t1 -c4 -d2s "$BASE/lessons/$LESSON" >/dev/null
wrk -t1 -c4 -d2s "$NG/signed-in.html" >/dev/null
RESULTS="$WORK/results"
for round in $(seq "$ROUNDS"); do
	for view in signed-in anonymous; do
		cookie=""
		[ "$view" = signed-in ] && cookie=$COOKIE
		read -r rps p99 errs < <(bench "nginx-$view-$round" "$NG/$view.html")
		echo "$round $view nginx $rps $p99 $errs $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >> "$RESULTS"
		cpu0=$(server_cpu)
		read -r rps p99 errs < <(bench "coldstart-$view-$round" "$BASE/lessons/$LESSON" "$cookie")
		cpu1=$(server_cpu)
		echo "$round $view coldstart $rps $p99 $errs $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >> "$RESULTS"
		requests=$(awk '/requests in/ {print $1}' "$WORK/wrk-coldstart-$view-$round.txt")
		echo "$view $(( (cpu1 - cpu0) * 1000000 / $(getconf CLK_TCK) / requests ))" >> "$WORK/cpu"
	done
done
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$CS_PID/status")

# One more signed-in run, profiled (not counted above: the profiler costs
# the server some time).
if [ "$PROFILE" != 0 ]; then
	secs=${DURATION%s}
	secs=$(( secs > 2 ? secs - 1 : 1 ))
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "Cookie: $COOKIE" "$BASE/lessons/$LESSON" > "$WORK/wrk-profiled.txt" &
	sleep 0.5
	curl -sf -o "$WORK/cpu.prof" "http://127.0.0.1:$OPS_PORT/debug/pprof/profile?seconds=$secs"
	wait
	[ -n "${PROFILE_OUT:-}" ] && cp "$WORK/cpu.prof" "$PROFILE_OUT"
fi
LOGGED=$(grep -c '"msg":"request"' "$WORK/server.log" || true)

echo
echo "lesson /lessons/$LESSON: signed-in $SIZE_IN bytes, anonymous $SIZE_ANON bytes; $CONNS connections, $THREADS wrk threads, $DURATION per run, $ROUNDS rounds, $(nproc) cores"
printf '%-6s %-10s %-10s %12s %10s %8s  %s\n' round view server "requests/s" p99 non-2xx "load 1/5/15 min"
while read -r round view server rps p99 errs load; do
	printf '%-6s %-10s %-10s %12s %10s %8s  %s\n' "$round" "$view" "$server" "$rps" "$p99" "$errs" "$load"
done < "$RESULTS"
python3 - "$RESULTS" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(v):
    for unit, f in (("us", 0.001), ("ms", 1), ("s", 1000)):
        if v.endswith(unit):
            return float(v[:-len(unit)]) * f
for view in ("signed-in", "anonymous"):
    ratios, p99s = [], []
    for r in sorted({row[0] for row in rows}):
        ng = [row for row in rows if row[0] == r and row[1] == view and row[2] == "nginx"][0]
        cs = [row for row in rows if row[0] == r and row[1] == view and row[2] == "coldstart"][0]
        ratios.append(float(cs[3]) / float(ng[3]))
        p99s.append(ms(cs[4]))
    ratios.sort(); p99s.sort()
    print("%-10s coldstart/nginx requests/s per round: %s; median %.0f%% (target >= 75%%); coldstart p99 median %.2f ms (target <= 5)"
          % (view, ", ".join("%.0f%%" % (100 * x) for x in ratios), 100 * ratios[len(ratios) // 2], p99s[len(p99s) // 2]))
PY
for view in signed-in anonymous; do
	echo "$view coldstart CPU per request: $(awk -v v="$view" '$1 == v {printf "%s%s us", sep, $2; sep=", "}' "$WORK/cpu")"
done
echo "coldstart peak RSS under load: $((RSS_KB / 1024)) MiB (target <= 100)"
echo "coldstart access log lines written: $LOGGED"
echo "coldstart serve start to /healthz 200: ${READY_MS} ms (target <= 300)"
if [ "$PROFILE" != 0 ]; then
	echo
	echo "CPU profile of coldstart, signed-in, $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-profiled.txt") requests/s while profiled, load $(cut -d' ' -f1-3 /proc/loadavg):"
	go tool pprof -top -nodecount=25 "$WORK/coldstart" "$WORK/cpu.prof" 2>/dev/null | sed -n '/flat%/,$p'
fi
