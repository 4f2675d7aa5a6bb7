#!/bin/bash
# Load run: STUDENTS students (default 100) each queue an answer to a table
# exercise (graded without containers) at the same moment, while wrk reads
# a lesson page as a signed-in student at 32 connections. Reports the
# lesson page's p99 during the run (target <= 50 ms) and how many answers
# were graded, with their verdicts (target: every one).
#
#   scripts/load-answers.sh [STUDENTS] [EXERCISE] [LESSON]
# Needs: go, wrk, python3 (apt-get install -y wrk).
set -euo pipefail

cd "$(dirname "$0")/.."
STUDENTS=${1:-100}
EXERCISE=${2:-serverless-criteria}
LESSON=${3:-fargate-task-definitions}
PORT=${CS_PORT:-18183}
command -v wrk >/dev/null || { echo "load-answers: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
[ -f "exercises/$EXERCISE/solution.json" ] || { echo "load-answers: exercises/$EXERCISE/solution.json does not exist" >&2; exit 1; }

WORK=$(mktemp -d)
CS_PID=""
cleanup() {
	[ -n "$CS_PID" ] && kill "$CS_PID" 2>/dev/null && wait "$CS_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/coldstart" ./cmd/coldstart
# Loopback is the trusted proxy, so that each student signs up from an
# address of their own (X-Forwarded-For) as they would in a classroom
# behind one; the sign-up limit per address stays on.
"$WORK/coldstart" serve --addr "127.0.0.1:$PORT" --nats-listen off --db "$WORK/load.db" --signup open \
	--trusted-proxies 127.0.0.1 > "$WORK/server.log" 2>&1 &
CS_PID=$!
python3 - "$PORT" "$STUDENTS" "$EXERCISE" "$LESSON" "exercises/$EXERCISE/solution.json" "$WORK" <<'PY'
import http.client, json, re, subprocess, sys, threading, time, urllib.parse
port, n, exercise, lesson, solution, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], open(sys.argv[5]).read(), sys.argv[6]
def req(method, path, cookie=None, form=None, ip=None, accept=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {}
    if cookie: h["Cookie"] = cookie
    if ip: h["X-Forwarded-For"] = ip
    if accept: h["Accept"] = accept
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form); h["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r, data
deadline = time.time() + 30
while True:
    try:
        if req("GET", "/healthz")[0].status == 200: break
    except OSError: pass
    if time.time() > deadline: sys.exit("load-answers: the server did not become healthy")
    time.sleep(0.05)
students = []
for i in range(n):
    ip = "10.%d.%d.%d" % (i // 65536, i // 256 % 256, i % 256 + 1)
    r, data = req("POST", "/signup", form={"email": "student%d@example.com" % i, "password": "load test password"}, ip=ip)
    ck = r.getheader("Set-Cookie") or ""
    m = re.match(r"(coldstart_session=[^;]+)", ck)
    if r.status != 303 or not m: sys.exit("load-answers: sign-up %d: %d %s" % (i, r.status, data[:200]))
    cookie = m.group(1)
    _, page = req("GET", "/exercises/" + exercise, cookie=cookie, ip=ip)
    csrf = re.search(rb'name="csrf-token" content="([^"]*)"', page).group(1).decode()
    students.append((ip, cookie, csrf))
# A reader of the lesson page during the run.
wrk = subprocess.Popen(["wrk", "-t2", "-c32", "-d15s", "--latency", "-H", "Cookie: " + students[0][1],
                        "http://127.0.0.1:%d/lessons/%s" % (port, lesson)], stdout=subprocess.PIPE, text=True)
time.sleep(1)
ids, errors = [None] * n, []
def submit(i):
    ip, cookie, csrf = students[i]
    r, data = req("POST", "/exercises/%s/submit" % exercise, cookie=cookie, ip=ip, accept="application/json",
                  form={"csrf": csrf, "body": solution})
    if r.status != 202: errors.append("student %d: %d %s" % (i, r.status, data[:200]))
    else: ids[i] = json.loads(data)["id"]
start = time.time()
threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
queued = time.time() - start
verdicts, graded_at = {}, None
while time.time() - start < 120:
    pending = 0
    for i, sid in enumerate(ids):
        if sid is None or i in verdicts: continue
        _, data = req("GET", "/submissions/%d" % sid, cookie=students[i][1], ip=students[i][0], accept="application/json")
        s = json.loads(data)
        if s["status"] == "done": verdicts[i] = s["verdict"]
        else: pending += 1
    if pending == 0:
        graded_at = time.time() - start; break
    time.sleep(0.2)
out = wrk.communicate()[0]
p99 = [l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")]
rps = [l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")]
load = open("/proc/loadavg").read().split()[:3]
print("students %d, exercise %s, all answers queued in %.2f s" % (n, exercise, queued))
for e in errors: print("refused:", e)
counts = {}
for v in verdicts.values(): counts[v] = counts.get(v, 0) + 1
print("graded: %d of %d%s; verdicts %s" % (len(verdicts), n, " in %.2f s" % graded_at if graded_at else " (not all within 120 s)", counts))
print("lesson /lessons/%s during the run: p99 %s (target <= 50 ms), %s requests/s (wrk, 32 connections)" % (lesson, p99[0] if p99 else "?", rps[0] if rps else "?"))
print("load average 1/5/15 min: %s" % "/".join(load))
sys.exit(0 if len(verdicts) == n and not errors else 1)
PY
