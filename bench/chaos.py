#!/usr/bin/env python3
"""Kills the harness daemon (SIGKILL) at random moments while commands run,
and reports what a crash must never leave: a service running twice, a
process no one tracks once the stack is stopped, a history whose rows do
not follow on from each other, a `status` that fails.

Usage: bench/chaos.py HARNESS WORKDIR [ITERATIONS] [SEED]
(`bash bench/run.sh chaos` runs it with the release build.)
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

harness, work = sys.argv[1], sys.argv[2]
iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 100
random.seed(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
N = 10
os.makedirs(work, exist_ok=True)
config = os.path.join(work, "services.yaml")
# Each service sleeps for a length no other process uses: its processes
# are found by their command line.
MARK = 4_000_000


def write_config(version):
    with open(config, "w") as f:
        f.write("services:\n")
        for i in range(N):
            deps = f"    depends_on: [s{i - 1}]\n" if i % 3 else ""
            f.write(f"  s{i}:\n    command: [\"sleep\", \"{MARK + i}\"]\n{deps}")
            f.write(f"    env: {{ VERSION: \"{version if i % 4 == 0 else 0}\" }}\n")
        f.write("jobs:\n  build:\n    steps:\n")
        for k in range(3):
            f.write(f"      - {{ name: step{k}, command: \"sleep 0.1\" }}\n")


def h(*args, timeout=60):
    return subprocess.run([harness, "-f", config, *args], capture_output=True, text=True, timeout=timeout)


def processes():
    """Live processes of each service, by index."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z" or len(argv) < 2 or not argv[0].endswith(b"sleep"):
            continue
        try:
            n = int(argv[1]) - MARK
        except ValueError:
            continue
        if 0 <= n < N:
            found.setdefault(n, []).append(int(pid))
    return found


def daemon_pid():
    try:
        with open(os.path.join(work, ".harness", "daemon.lock")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


version = 1
write_config(version)
h("status")
duplicates = failed_status = mismatched = 0
kinds = {}
for it in range(iterations):
    kind = random.choice(["start", "stop", "restart", "deploy", "job"])
    kinds[kind] = kinds.get(kind, 0) + 1
    if kind == "deploy":
        version += 1
        write_config(version)
    args = {
        "start": ["start", "--all"],
        "stop": ["stop", "--all"],
        "restart": ["restart", "--all"],
        "deploy": ["deploy"],
        "job": ["run", "build"],
    }[kind]
    cli = subprocess.Popen([harness, "-f", config, *args], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    time.sleep(random.uniform(0, 0.4))
    pid = daemon_pid()
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        cli.wait(timeout=60)
    except subprocess.TimeoutExpired:
        cli.kill()
    # A new daemon takes over; what it says must match what runs.
    st = h("status", "--json")
    try:
        report = json.loads(st.stdout)
    except ValueError:
        failed_status += 1
        print(f"iteration {it} ({kind}): status failed: {st.stderr.strip()[:200]}")
        continue
    live = processes()
    for n, pids in live.items():
        if len(pids) > 1:
            duplicates += 1
            print(f"iteration {it} ({kind}): s{n} runs {len(pids)} times: {pids}")
    for svc in report["services"]:
        n = int(svc["name"][1:])
        pids = live.get(n, [])
        if svc["status"] == "running" and svc["pid"] not in pids:
            # The next daemon may be finishing a killed deploy, and have
            # stopped that run between the status and the listing: only
            # a status that still says so once its end is seen is wrong.
            time.sleep(0.2)
            again = json.loads(h("status", "--json").stdout or "{}")
            still = [v for v in again.get("services", []) if v["name"] == svc["name"]
                     and v["status"] == "running" and v["pid"] == svc["pid"]]
            if still and svc["pid"] not in processes().get(n, []):
                mismatched += 1
                print(f"iteration {it} ({kind}): status says s{n} runs as {svc['pid']}, live: {pids}")
            else:
                print(f"iteration {it} ({kind}): s{n}'s run {svc['pid']} ended between status and the listing; status says so now")

# The end: everything stopped, nothing left, every history row following
# on from the one before it.
# A deploy the last kill interrupted is finished by the next daemon; the
# stop cancels it and follows once it is done.
stop = h("stop", "--all")
if stop.returncode != 0:
    print(f"stop --all after the last kill: exit {stop.returncode}: {(stop.stdout + stop.stderr).strip()[-400:]}")
time.sleep(0.5)
orphans = sum(len(p) for p in processes().values())
history = json.loads(h("status", "--history", "--json").stdout)
last, breaks = {}, 0
for row in history:
    svc = row["service"]
    if svc.startswith("("):
        continue
    if svc in last and last[svc] != row["from"]:
        breaks += 1
    last[svc] = row["to"]
h("daemon", "stop")
print(f"{iterations} daemon kills ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}): "
      f"duplicates {duplicates}, status failures {failed_status}, status/process mismatches {mismatched}, "
      f"orphans after stop --all {orphans}, history rows not following on {breaks} (of {len(history)})")
sys.exit(1 if duplicates or failed_status or orphans or breaks else 0)
