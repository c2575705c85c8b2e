#!/usr/bin/env bash
# Measures harness's speed and footprint figures (see BENCHMARKS.md).
# Usage: bench/run.sh [SECTION…]  (builds release binaries first)
# Sections: flat (100 services: start, stop, status, memory, idle CPU),
# chain (TCP hand-off), crash (crash → restart), notify (READY=1 hand-off),
# probed (probe CPU), deploy (100 services: unchanged deploy, one changed),
# handoff (a socket service replaced start-first under load), resume (a
# job's resume plan: hashing 100 steps × 10 inputs of 1 MiB; and the same
# through `harness run`), steps (a job's overhead per step), logthroughput
# (300,000 lines of 100 bytes through the shim, beside writing the file),
# logread (`harness logs` of three services' 900,000 lines across rotated
# files: all, --tail, --since, beside cat and tail on the files),
# hostile (status latency and daemon memory with 200 hung connections,
# 1,000 concurrent status requests and a 100 MB body), chaos (100 daemon
# SIGKILLs at random moments during starts, stops, restarts, deploys and
# jobs: duplicates, orphans, broken history), external (the cost of
# looking for services harness did not start, 100 services, alone and in
# the state check — `BEFORE=path/to/harness` beside an earlier build — and
# an adopted process's end → harness's own instance running).
# Without a name, all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace -q
export PATH="$PWD/target/release:$PATH"
H="$PWD/target/release/harness"
HK="$PWD/target/release/hk"
work=$(mktemp -d /tmp/harness-bench.XXXXXX)
trap 'for d in "$work"/*/; do "$H" -f "$d/services.yaml" stop --all >/dev/null 2>&1 || true; "$H" -f "$d/services.yaml" daemon stop >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
only=" $* "
section() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
# Nanoseconds of wall clock, from bash itself: a python3 here would add its
# own start-up (≈ 100 ms on this machine) to every single-run figure.
ms() { local t=${EPOCHREALTIME/./}; echo "${t}000"; }
elapsed() { python3 -c "print(f'{($2-$1)/1e6:.0f} ms')"; }

if section flat; then
echo "== 100 independent services"
mkdir -p "$work/flat"
{ echo "services:"; for i in $(seq 1 100); do printf '  s%03d:\n    command: ["sleep", "100000"]\n' "$i"; done; } > "$work/flat/services.yaml"
F="$work/flat/services.yaml"
"$H" -f "$F" status >/dev/null   # daemon up
t0=$(ms); "$H" -f "$F" start --all --no-wait >/dev/null; t1=$(ms)
echo "start --all --no-wait (all spawned and running): $(elapsed $t0 $t1)"
t0=$(ms); "$H" -f "$F" stop --all >/dev/null; t1=$(ms)
echo "stop --all (none left): $(elapsed $t0 $t1)"
t0=$(ms); "$H" -f "$F" start --all >/dev/null; t1=$(ms)
echo "start --all (all running and past the 250 ms settle): $(elapsed $t0 $t1)"
runs=20; t0=$(ms); for _ in $(seq $runs); do "$H" -f "$F" start --all --dry-run >/dev/null; done; t1=$(ms)
python3 -c "print(f'start --all --dry-run (the state check every start does first) with 100 running: {($t1-$t0)/1e6/$runs:.1f} ms per call (mean of $runs)')"
runs=50; t0=$(ms); for _ in $(seq $runs); do "$H" -f "$F" status >/dev/null; done; t1=$(ms)
python3 -c "print(f'status with 100 services: {($t1-$t0)/1e6/$runs:.1f} ms per call (mean of $runs)')"
dpid=$(cat "$work/flat/.harness/daemon.lock")
python3 - "$dpid" <<'PY'
import os, sys, time
daemon = int(sys.argv[1])
def field(pid, name):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
def ppid(p):
    try:
        return int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None
# The daemon's children: the 100 services' shims and the spare one.
shims = [int(p) for p in os.listdir("/proc") if p.isdigit() and ppid(p) == daemon]
rss = field(daemon, "Rss")
pss = field(daemon, "Pss") + sum(field(s, "Pss") for s in shims)
print(f"daemon RSS with 100 services: {rss/1024:.1f} MiB")
print(f"daemon + {len(shims)} shims PSS: {pss/1024:.1f} MiB ({sum(field(s,'Pss') for s in shims)/max(len(shims),1):.0f} KiB per shim)")
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split()
    return int(f[11]) + int(f[12])
pids = [daemon] + shims
a = sum(cpu(p) for p in pids); time.sleep(10); b = sum(cpu(p) for p in pids)
print(f"idle CPU of daemon + shims over 10 s: {(b-a)/tick/10*100:.2f}% of one core")
PY
"$H" -f "$F" stop --all >/dev/null
fi

if section chain; then
echo "== chain of 20 services with TCP health checks"
mkdir -p "$work/chain"
base=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]+1000)')
{ echo "services:"; for i in $(seq 1 20); do
    printf '  c%02d:\n    command: ["%s", "serve", "%d"]\n    health_check: { tcp: "127.0.0.1:%d" }\n' "$i" "$HK" $((base+i)) $((base+i))
    [ "$i" -gt 1 ] && printf '    depends_on: [c%02d]\n' $((i-1))
  done; } > "$work/chain/services.yaml"
C="$work/chain/services.yaml"
"$H" -f "$C" status >/dev/null
t0=$(ms); "$H" -f "$C" start --all >/dev/null; t1=$(ms)
echo "start --all, 20-deep chain, all healthy: $(elapsed $t0 $t1)"
python3 - "$work/chain/.harness/logs" <<'PY'
import sys, statistics, re
d = sys.argv[1]
def get(i, key):
    text = open(f"{d}/c{i:02d}.log").read()
    return int(re.search(key + r"=(\d+)", text).group(1))
hand = [(get(i+1, "started_ns") - get(i, "listening_ns")) / 1e6 for i in range(1, 20)]
print(f"dependency hand-off (port open → dependent running), 19 samples: median {statistics.median(hand):.1f} ms, min {min(hand):.1f}, max {max(hand):.1f}")
PY
fi

if section crash; then
echo "== crash (SIGKILL) → restarted process, backoff 0"
mkdir -p "$work/crash"
printf 'settings:\n  restart: { backoff: { initial: 0s, max: 0s }, max_restarts: 0, min_uptime: 0s }\nservices:\n  victim:\n    command: ["%s", "serve", "1", "--after", "100000000"]\n' "$HK" > "$work/crash/services.yaml"
K="$work/crash/services.yaml"
"$H" -f "$K" start --all >/dev/null
python3 - "$H" "$K" "$work/crash/.harness/logs/victim.log" <<'PY'
import json, os, re, signal, statistics, subprocess, sys, time
h, cfg, log = sys.argv[1:4]
def pid():
    out = subprocess.run([h, "-f", cfg, "status", "--json"], capture_output=True, text=True).stdout
    return json.loads(out)["services"][0]["pid"]
def stamps():
    return [int(s) for s in re.findall(r"started_ns=(\d+)", open(log).read())]
samples = []
for _ in range(30):
    time.sleep(0.05)
    p = pid()
    while p is None:
        time.sleep(0.01)
        p = pid()
    before = len(stamps())
    t0 = time.time_ns()
    os.kill(p, signal.SIGKILL)
    while len(stamps()) <= before:
        time.sleep(0.0005)
    samples.append((stamps()[-1] - t0) / 1e6)
print(f"crash → restarted process running (SIGKILL sent → new process's first line), {len(samples)} samples: median {statistics.median(samples):.1f} ms, min {min(samples):.1f}, max {max(samples):.1f}")
PY
"$H" -f "$K" stop --all >/dev/null
fi

if section notify; then
echo "== chain of 20 services with ready: notify"
mkdir -p "$work/notify"
{ echo "services:"; for i in $(seq 1 20); do
    printf '  n%02d:\n    command: ["%s", "notify", "0"]\n    ready: notify\n' "$i" "$HK"
    [ "$i" -gt 1 ] && printf '    depends_on: [n%02d]\n' $((i-1))
  done; } > "$work/notify/services.yaml"
N="$work/notify/services.yaml"
"$H" -f "$N" status >/dev/null
t0=$(ms); "$H" -f "$N" start --all >/dev/null; t1=$(ms)
echo "start --all, 20-deep chain gated by READY=1: $(elapsed $t0 $t1)"
python3 - "$work/notify/.harness/logs" <<'PY'
import sys, statistics, re
d = sys.argv[1]
def get(i, key):
    return int(re.search(key + r"=(\d+)", open(f"{d}/n{i:02d}.log").read()).group(1))
hand = [(get(i+1, "started_ns") - get(i, "ready_ns")) / 1e6 for i in range(1, 20)]
print(f"READY=1 → dependent running, 19 samples: median {statistics.median(hand):.2f} ms, min {min(hand):.2f}, max {max(hand):.2f}")
PY
"$H" -f "$N" stop --all >/dev/null
fi

if section probed; then
echo "== 100 services probed every second (readiness + liveness, tcp)"
mkdir -p "$work/probed"
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ echo "services:"; printf '  target:\n    command: ["%s", "serve", "%d"]\n    health_check: { tcp: "127.0.0.1:%d" }\n' "$HK" "$pport" "$pport"
  for i in $(seq 1 100); do
    printf '  p%03d:\n    command: ["sleep", "100000"]\n    depends_on: [target]\n    health_check: { tcp: "127.0.0.1:%d", interval: 1s }\n    liveness: { tcp: "127.0.0.1:%d", interval: 1s }\n' "$i" "$pport" "$pport"
  done; } > "$work/probed/services.yaml"
P="$work/probed/services.yaml"
"$H" -f "$P" start --all >/dev/null
sleep 2
python3 - "$(cat "$work/probed/.harness/daemon.lock")" <<'PY'
import os, sys, time
pid = int(sys.argv[1]); tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
a = cpu(); t = time.monotonic(); time.sleep(20); b = cpu(); dt = time.monotonic() - t
print(f"daemon CPU with 100 services × 2 probes per second: {(b-a)/tick/dt*100:.2f}% of one core (20 s)")
PY
"$H" -f "$P" stop --all >/dev/null
fi

if section deploy; then
echo "== deploy, 100 services with ready: notify"
mkdir -p "$work/deploy"
gen() { # $1: the command argument of service d050
  echo "settings:"; echo "  update: { min_healthy: 0s }"; echo "services:"
  for i in $(seq 1 100); do
    arg=0; [ "$i" = 50 ] && arg=$1
    printf '  d%03d:
    command: ["%s", "notify", "%s"]\n    ready: notify\n' "$i" "$HK" "$arg"
  done
}
D="$work/deploy/services.yaml"
gen 0 > "$D"
"$H" -f "$D" start --all >/dev/null
runs=20; t0=$(ms); for _ in $(seq $runs); do "$H" -f "$D" deploy >/dev/null; done; t1=$(ms)
python3 -c "print(f'deploy of an unchanged 100-service stack (plan, nothing to do), end to end: {($t1-$t0)/1e6/$runs:.1f} ms per call (mean of $runs)')"
for n in 1 2 3 4 5; do
  gen "$n" > "$D"
  t0=$(ms); "$H" -f "$D" deploy >/dev/null; t1=$(ms)
  gen "$((n + 10))" > "$D"
  python3 - "$t0" "$t1" "$work/deploy/.harness" <<'PY'
import json, re, socket, sys, time
t0, t1, state = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def own():
    # The shim writes the service's lines a moment after it printed them.
    time.sleep(0.2)
    log = open(f"{state}/logs/d050.log").read()
    started = [int(x) for x in re.findall(r"started_ns=(\d+)", log)][-1]
    ready = [int(x) for x in re.findall(r"ready_ns=(\d+)", log)][-1]
    return (ready - started) / 1e6
cli_own = own()
# The same deploy over the API alone: `done`'s elapsed is the daemon's time
# from the request to the service committed.
s = socket.socket(socket.AF_UNIX); s.connect(f"{state}/harness.sock")
s.sendall(b"POST /v1/deploy HTTP/1.0\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
raw = b""
while b"event: done" not in raw or not raw.endswith(b"\n\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    raw += chunk
done = json.loads(raw.decode().split("event: done\ndata: ")[1].split("\n")[0])
api_own = own()
print(f"1 changed among 100 (stop-first, min_healthy 0): CLI end to end {(t1-t0)/1e6:.1f} ms (own start {cli_own:.1f}); "
      f"daemon, request to committed {done['elapsed']*1e3:.1f} ms (own start {api_own:.1f}): harness overhead {done['elapsed']*1e3 - api_own:.1f} ms")
PY
done
"$H" -f "$D" stop --all >/dev/null
fi

if section handoff; then
echo "== socket hand-off: deploys of a service on a fixed port, under load (4 clients, a new connection per request)"
mkdir -p "$work/handoff"
S="$work/handoff/services.yaml"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
# Runs `harness deploy` while 4 clients connect without a pause; counts the
# connections made during the deploy, those that failed, and those the new
# version ($1, the body it answers) answered.
under_load() {
python3 - "$H" "$S" "$port" "$1" "$2" <<'PY'
import socket, subprocess, sys, threading, time
harness, conf, port, version, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
done = threading.Event()
counts = {"ok": 0, "failed": 0, "new": 0}
errors = []
lock = threading.Lock()
def client():
    while not done.is_set():
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            c.close()
            ok = data.startswith(b"HTTP/1.1 200")
            with lock:
                counts["ok" if ok else "failed"] += 1
                counts["new"] += data.rstrip().endswith(version.encode())
                if not ok:
                    errors.append(repr(data[:60]))
        except OSError as e:
            with lock:
                counts["failed"] += 1
                errors.append(str(e))
threads = [threading.Thread(target=client) for _ in range(4)]
for t in threads:
    t.start()
t0 = time.monotonic()
rc = subprocess.run([harness, "-f", conf, "deploy"], stdout=subprocess.DEVNULL).returncode
took = time.monotonic() - t0
done.set()
for t in threads:
    t.join()
total = counts["ok"] + counts["failed"]
print(f"{label}: deploy (exit {rc}, {took:.2f} s): {total} connections during the deploy, "
      f"{counts['failed']} failed" + (f", {counts['new']} answered by the new version" if version != "-" else "")
      + (f"; first errors: {errors[:3]}" if errors else ""))
PY
}
genh() { # $1: the version the service answers, $2: the update order
  printf 'services:\n  web:\n    command: ["%s", "activated", "%s", "--after", "200"]\n    socket: { tcp: "127.0.0.1:%s" }\n    ready: notify\n    update: { order: %s, min_healthy: 3s }\n' "$HK" "$1" "$port" "$2"
}
genh v0 start-first > "$S"
"$H" -f "$S" start --all >/dev/null
for n in 1 2 3; do
  genh "v$n" start-first > "$S"
  under_load "v$n" "socket, start-first"
done
for n in 4 5; do
  genh "v$n" stop-first > "$S"
  under_load "v$n" "socket, stop-first"
done
"$H" -f "$S" stop --all >/dev/null
# Without socket: the service binds the port itself (hk serve answers "ok"),
# as it would under any supervisor: stop-first leaves the port closed
# between the old version's end and the new one's listen.
gens() { # $1: a delay before the new version listens (a new version)
  printf 'services:\n  web:\n    command: ["%s", "serve", "%s", "--after", "%s"]\n    health_check: { http: "http://127.0.0.1:%s/" }\n    update: { min_healthy: 3s }\n' "$HK" "$port" "$1" "$port"
}
gens 200 > "$S"
"$H" -f "$S" start --all >/dev/null
for n in 201 202; do
  gens "$n" > "$S"
  under_load - "no socket, stop-first"
done
"$H" -f "$S" stop --all >/dev/null
fi

if section external; then
echo "== looking for services harness did not start"
cargo build --release -q -p harness-daemon --example external_look
for _ in 1 2 3; do "$PWD/target/release/examples/external_look"; done
# The state check with the look in it: 100 stopped services with a tcp
# readiness check each, nothing listening; `BEFORE=path/to/harness` also
# measures an earlier build, alternating with this one.
mkdir -p "$work/external" "$work/external-before"
{ echo "services:"; for i in $(seq 1 100); do printf '  s%03d:\n    command: ["sleep", "100000"]\n    health_check: { tcp: "127.0.0.1:%d" }\n' "$i" $((43000 + i)); done; } > "$work/external/services.yaml"
cp "$work/external/services.yaml" "$work/external-before/services.yaml"
dry() { # $1: binary, $2: file, $3: label
  local runs=50 t0 t1
  "$1" -f "$2" start --all --dry-run >/dev/null
  t0=$(ms); for _ in $(seq $runs); do "$1" -f "$2" start --all --dry-run >/dev/null; done; t1=$(ms)
  python3 -c "print(f'$3: start --all --dry-run, 100 stopped services, nothing external: {($t1-$t0)/1e6/$runs:.2f} ms per call (mean of $runs)')"
}
for _ in 1 2 3; do
  dry "$H" "$work/external/services.yaml" "this build"
  if [ -n "${BEFORE:-}" ]; then dry "$BEFORE" "$work/external-before/services.yaml" "before ($BEFORE)"; fi
done
"$H" -f "$work/external/services.yaml" daemon stop >/dev/null 2>&1 || true
if [ -n "${BEFORE:-}" ]; then "$BEFORE" -f "$work/external-before/services.yaml" daemon stop >/dev/null 2>&1 || true; fi
echo "== an adopted process's end → harness's own instance running"
mkdir -p "$work/adopted"
aport=$((44000 + RANDOM % 1000))
printf 'settings:\n  restart: { backoff: { initial: 0s, max: 0s }, max_restarts: 0, min_uptime: 0s }\nservices:\n  victim:\n    command: ["%s", "serve", "%s"]\n    health_check: { tcp: "127.0.0.1:%s" }\n' "$HK" "$aport" "$aport" > "$work/adopted/services.yaml"
python3 - "$H" "$HK" "$work/adopted/services.yaml" "$work/adopted/.harness/logs/victim.log" "$aport" <<'PY'
import os, re, signal, socket, statistics, subprocess, sys, time
h, hk, cfg, log, port = sys.argv[1:6]
def stamps():
    try:
        return [int(s) for s in re.findall(r"started_ns=(\d+)", open(log).read())]
    except FileNotFoundError:
        return []
def listens():
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=0.2).close()
        return True
    except OSError:
        return False
samples = []
for _ in range(20):
    outside = subprocess.Popen([hk, "serve", port], stdout=subprocess.DEVNULL, start_new_session=True)
    while not listens():
        time.sleep(0.005)
    subprocess.run([h, "-f", cfg, "adopt", "victim", "--yes"], check=True, stdout=subprocess.DEVNULL)
    before = len(stamps())
    t0 = time.time_ns()
    os.kill(outside.pid, signal.SIGKILL)
    outside.wait()
    while len(stamps()) <= before:
        time.sleep(0.0005)
    samples.append((stamps()[-1] - t0) / 1e6)
    subprocess.run([h, "-f", cfg, "stop", "victim"], check=True, stdout=subprocess.DEVNULL)
print(f"adopted process SIGKILLed → harness's own instance running (its first line), {len(samples)} samples: median {statistics.median(samples):.1f} ms, min {min(samples):.1f}, max {max(samples):.1f}")
PY
"$H" -f "$work/adopted/services.yaml" daemon stop >/dev/null 2>&1 || true
fi

if section resume; then
echo "== a job's resume plan"
cargo build --release -q -p harness-daemon --example resume_plan
for _ in 1 2 3; do "$PWD/target/release/examples/resume_plan"; done
# The same through the real binary: 100 steps, each with 10 inputs of
# 1 MiB; the last step's command changes, so 99 are up to date.
mkdir -p "$work/resume/in"
R="$work/resume/services.yaml"
for i in $(seq 1 100); do for j in $(seq 1 10); do head -c 1048576 /dev/urandom > "$work/resume/in/$i-$j"; done; done
gen_resume() {
  { echo "jobs:"; echo "  image:"; echo "    steps:"
    for i in $(seq 1 100); do
      cmd='["true"]'; [ "$i" = 100 ] && cmd="[\"true\", \"$1\"]"
      printf '      - name: s%03d\n        command: %s\n        inputs: [' "$i" "$cmd"
      for j in $(seq 1 10); do printf 'in/%s-%s' "$i" "$j"; [ "$j" = 10 ] || printf ', '; done
      printf ']\n'
    done; } > "$R"
}
gen_resume 0
"$H" -f "$R" run image >/dev/null
# Time to the plan's last line: `harness run` prints it before any step.
plan_ms() {
  local t0 t1
  t0=$(ms)
  "$H" -f "$R" run image | while IFS= read -r line; do
    case "$line" in *"s100"*run*) echo "$(ms)"; break;; esac
  done > "$work/resume/t1"
  t1=$(cat "$work/resume/t1")
  elapsed "$t0" "$t1"
}
for k in 1 2 3; do gen_resume "$k"; echo "harness run, 99 of 100 steps up to date, daemon up (stamps known): plan printed in $(plan_ms)"; done
"$H" -f "$R" daemon stop >/dev/null
gen_resume 4
echo "harness run, the same after a daemon restart: plan printed in $(plan_ms)"
"$H" -f "$R" daemon stop >/dev/null
fi

if section steps; then
echo "== a job's overhead per step"
mkdir -p "$work/steps"
J="$work/steps/services.yaml"
{ echo "jobs:"; echo "  many:"; echo "    steps:"; for i in $(seq 1 200); do printf '      - { name: s%03d, command: ["true"] }\n' "$i"; done; } > "$J"
"$H" -f "$J" status >/dev/null   # daemon up
for k in 1 2 3; do
  t0=$(ms); "$H" -f "$J" run many --restart >/dev/null; t1=$(ms)
  b0=$(ms); for _ in $(seq 200); do /bin/true; done; b1=$(ms)
  python3 - "$work/steps/.harness/daemon.log" "$t0" "$t1" "$b0" "$b1" "$k" <<'PY'
import datetime, statistics, sys
log, t0, t1, b0, b1, k = sys.argv[1], *map(int, sys.argv[2:6]), int(sys.argv[6])
def ts(line):
    return datetime.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
ends, spawns = [], []
for line in open(log):
    if "job step ended" in line: ends.append(ts(line))
    elif "job step spawned" in line: spawns.append(ts(line))
ends, spawns = ends[-200:], spawns[-200:]
gaps = sorted((s - e) * 1000 for e, s in zip(ends, spawns[1:]))
per = (t1 - t0) / 1e6 / 200
base = (b1 - b0) / 1e6 / 200
print(f"run {k}: from a step's end to the next one's spawn: median {statistics.median(gaps):.2f} ms, p90 {gaps[int(len(gaps)*0.9)]:.2f} ms, max {gaps[-1]:.2f} ms; "
      f"200 steps of `true` in {(t1-t0)/1e6:.0f} ms ({per:.2f} ms per step; the shell runs `true` in {base:.2f} ms)")
PY
done
"$H" -f "$J" daemon stop >/dev/null
fi

if section logthroughput; then
echo "== log throughput: 300,000 lines of 100 bytes, stdout and stderr mixed"
mkdir -p "$work/logs"
L="$work/logs/services.yaml"
printf 'services:\n  flood:\n    command: ["hk", "flood", "300000", "100"]\n    restart: never\n    logs: { max_size: 1G }\n' > "$L"
"$H" -f "$L" status >/dev/null   # daemon up
took() { grep -o 'flood_ns=[0-9]*' "$1" | tail -1 | cut -d= -f2; }
: > "$work/logs/pairs"
for k in $(seq 1 11); do
  "$HK" flood 300000 100 > "$work/logs/direct.log" 2>&1
  direct=$(took "$work/logs/direct.log")
  rm -f "$work/logs/.harness/logs/flood.log"*
  "$H" -f "$L" start flood --no-wait >/dev/null
  until grep -q 'flood_ns=' "$work/logs/.harness/logs/flood.log" 2>/dev/null; do sleep 0.05; done
  shim=$(took "$work/logs/.harness/logs/flood.log")
  lines=$(wc -l < "$work/logs/.harness/logs/flood.log")
  [ "$lines" = 300001 ] || echo "run $k: $lines lines in the log, not 300001"
  echo "$direct $shim" >> "$work/logs/pairs"
  "$H" -f "$L" stop flood >/dev/null
done
python3 - "$work/logs/pairs" <<'PY'
import statistics, sys
pairs = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
d = statistics.median(p[0] for p in pairs) / 1e9
s = statistics.median(p[1] for p in pairs) / 1e9
ratios = sorted(p[1] / p[0] for p in pairs)
print(f"{len(pairs)} runs, alternating: writing the file directly median {d:.3f} s; through the shim median {s:.3f} s "
      f"({s/d:.2f}x; per run {ratios[0]:.2f}x to {ratios[-1]:.2f}x, median {statistics.median(ratios):.2f}x); every line in the log")
PY
"$H" -f "$L" daemon stop >/dev/null
fi

if section logread; then
echo "== harness logs: three services of 300,000 lines of 100 bytes each (10 MiB files, 3 kept)"
mkdir -p "$work/logread"
R="$work/logread/services.yaml"
{ echo "services:"; for n in a b c; do printf '  %s:\n    command: ["hk", "flood", "300000", "100"]\n    restart: never\n' "$n"; done; } > "$R"
"$H" -f "$R" start --all --no-wait >/dev/null
for n in a b c; do until grep -q 'flood_ns=' "$work/logread/.harness/logs/$n.log" 2>/dev/null; do sleep 0.05; done; done
D="$work/logread/.harness/logs"
mean() { # NAME RUNS COMMAND…: the mean wall time of RUNS runs, output to /dev/null
  local name=$1 runs=$2; shift 2
  local t0 t1; t0=$(ms); for _ in $(seq "$runs"); do "$@" >/dev/null; done; t1=$(ms)
  python3 -c "print(f'$name: {($t1-$t0)/1e6/$runs:.1f} ms (mean of $runs)')"
}
echo "lines shown by harness logs: $("$H" -f "$R" logs | wc -l) (all three, interleaved)"
mean "harness logs (all 900,003 lines, interleaved, prefixed)" 3 "$H" -f "$R" logs
mean "cat of the logs (no order, no prefix)" 3 sh -c "cat $D/[abc].log $D/[abc].log.[0-9]"
mean "harness logs a (one service, 300,001 lines)" 3 "$H" -f "$R" logs a
mean "harness logs --tail 100 (each of three)" 20 "$H" -f "$R" logs --tail 100
mean "harness logs a --tail 100" 20 "$H" -f "$R" logs a --tail 100
mean "tail -n 100 a.log" 20 tail -n 100 "$D/a.log"
mean "harness logs --since 1s (nothing that recent)" 20 "$H" -f "$R" logs --since 1s
"$H" -f "$R" stop --all >/dev/null
"$H" -f "$R" daemon stop >/dev/null
fi

if section hostile; then
echo "== hostile clients: 10 services; 200 hung connections, 1,000 concurrent status requests, a 100 MB body"
mkdir -p "$work/hostile"
X="$work/hostile/services.yaml"
{ echo "services:"; for i in $(seq 1 10); do printf '  s%02d:\n    command: ["sleep", "100000"]\n' "$i"; done; } > "$X"
"$H" -f "$X" start --all >/dev/null
python3 - "$work/hostile/.harness/harness.sock" "$H" "$X" <<'PY'
import socket, subprocess, sys, threading, time
sock, h, f = sys.argv[1:4]
pid = int(open(sock.replace("harness.sock", "daemon.lock")).read().strip())
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) / 1024
def status_ms(n=20):
    t = time.perf_counter()
    for _ in range(n): subprocess.run([h, "-f", f, "status"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) / n * 1000
def ask(raw):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    try: s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError): pass  # answered before all was sent
    answer = b""
    try:
        while c := s.recv(65536): answer += c
    except ConnectionResetError: pass
    s.close()
    return answer[:12]
print(f"harness status, end to end: {status_ms():.1f} ms (mean of 20); daemon RSS {rss():.1f} MiB")
hung = []
for k in range(200):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    if k % 2: s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: h\r\n")
    hung.append(s)
print(f"with 200 hung connections: {status_ms():.1f} ms; daemon RSS {rss():.1f} MiB")
t = time.perf_counter()
ths = [threading.Thread(target=ask, args=(b"GET /v1/status HTTP/1.0\r\nHost: h\r\n\r\n",)) for _ in range(1000)]
for th in ths: th.start()
for th in ths: th.join()
print(f"1,000 concurrent status requests (and the 200 hung): all answered in {time.perf_counter() - t:.2f} s; daemon RSS {rss():.1f} MiB")
body = b" " * (100 << 20)
t = time.perf_counter()
code = ask(b"POST /v1/start HTTP/1.0\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
print(f"a 100 MB body: {code.decode(errors='replace')} in {(time.perf_counter() - t) * 1000:.0f} ms; daemon RSS {rss():.1f} MiB")
time.sleep(11)
open_ = 0
for s in hung:
    s.settimeout(0.2)
    try: open_ += s.recv(1) != b""
    except socket.timeout: open_ += 1
    except OSError: pass
print(f"hung connections still open after 11 s: {open_} of 200; status {status_ms():.1f} ms; daemon RSS {rss():.1f} MiB")
PY
"$H" -f "$X" stop --all >/dev/null
"$H" -f "$X" daemon stop >/dev/null
fi

if section chaos; then
echo "== chaos: the daemon SIGKILLed at a random moment of each of 100 commands (10 services, a job)"
python3 bench/chaos.py "$H" "$work/chaos" 100 1
fi
