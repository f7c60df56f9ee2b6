#!/usr/bin/env bash
# Where `mailroom serve` spends its time under the 1 KiB load of compare.sh: Postfix's smtp-source
# (20 sessions, 1 KiB, no pipelining) against a fresh server on SQLite, with the audit log on and
# then off. For each: the system calls and context switches per message (perf stat, counted by the
# kernel), and where the server's CPU goes (perf record: by binary, and through the system calls
# and code paths that matter). Run after compare.sh; performance-report.sh --profile includes it.
#
# Usage: bench/profile.sh [--json FILE] [--messages N]
#   --json FILE    where the figures go (default bench/results/profile.json)
#   --messages N   messages per measured run (default 30000; the warm-up sends as many first)
# Needs: dotnet, python3, perf (linux-perf), smtp-source (postfix). Run as root, or with
# kernel.perf_event_paranoid <= 1 for perf to see the server and its system calls.
# Everything it starts is stopped, and its temporary folder removed, on exit, failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

json="bench/results/profile.json"
messages=30000
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    *) echo "usage: bench/profile.sh [--json FILE] [--messages N]" >&2; exit 2 ;;
  esac
done

for tool in dotnet python3 perf smtp-source; do
  command -v "$tool" >/dev/null || { echo "profile.sh needs $tool (perf: apt-get install linux-perf; smtp-source: apt-get install postfix)" >&2; exit 2; }
done

. bench/lib.sh profile

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

load() { # port count
  smtp-source -d -s 20 -l 1024 -m "$2" -f load@remote.test -t user0@bench.test "127.0.0.1:$1"
}

profile() { # name, audit enabled (true|false)
  local name=$1 audit=$2 data="$work/data-$1" port
  mkdir -p "$data"
  dotnet "$cli" domain add bench.test --data "$data" >"$data.setup.log" 2>&1
  echo "bench-password" | dotnet "$cli" user add user0@bench.test --password-stdin --data "$data" >>"$data.setup.log" 2>&1
  port=$(free_port)
  # The perf map names the JIT-compiled methods in perf's report; W^X off lets perf read them.
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  MAILROOM__Audit__Enabled="$audit" \
  MAILROOM__Smtp__ReverseDnsLookup=false \
  MAILROOM__Smtp__MaxConnectionsPerAddress=100000 \
  MAILROOM__Logging__LogLevel__Default=Warning \
    dotnet "$cli" serve --data "$data" --smtp "127.0.0.1:$port" --submission 127.0.0.1:0 \
      --submissions 127.0.0.1:0 --domain bench.test >"$data.log" 2>&1 &
  server_pid=$!
  wait_until_listening "$data.log"

  echo "$name: warming up ($messages messages), then counting and sampling ($messages messages each)"
  load "$port" "$messages" >/dev/null 2>&1

  # Counted by the kernel for this process only, over one run of the load.
  local events="syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_write"
  events+=",syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex"
  events+=",syscalls:sys_enter_sched_yield,context-switches"
  perf stat -x, -e "$events" -p "$server_pid" -o "$work/$name.stat" &
  local stat_pid=$!
  sleep 0.5
  local before after started ended
  before=$(cpu_ticks "$server_pid"); started=$(date +%s.%N)
  load "$port" "$messages" >/dev/null 2>&1
  ended=$(date +%s.%N); after=$(cpu_ticks "$server_pid")
  kill -INT "$stat_pid"; wait "$stat_pid" || true

  perf record -F 999 -g -p "$server_pid" -o "$work/$name.perf" >/dev/null 2>&1 &
  local record_pid=$!
  sleep 0.5
  load "$port" "$messages" >/dev/null 2>&1
  kill -INT "$record_pid"; wait "$record_pid" || true
  perf report -i "$work/$name.perf" --no-children --sort dso -g none --stdio 2>/dev/null >"$work/$name.dso"
  perf report -i "$work/$name.perf" --children --sort sym -g none --stdio 2>/dev/null >"$work/$name.sym"
  echo "$name	$messages	$before	$after	$started	$ended" >>"$work/runs.tsv"

  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

: >"$work/runs.tsv"
profile audit-on true
profile audit-off false

mkdir -p "$(dirname "$json")"
WORK="$work" python3 - "$json" <<'PY'
import json, os, re, subprocess, sys, datetime

out = sys.argv[1]
work = os.environ["WORK"]
hz = os.sysconf("SC_CLK_TCK")

def dso_shares(path):
    shares = {}
    for line in open(path):
        m = re.match(r"\s*([\d.]+)%\s+(.+?)\s*$", line)
        if not m:
            continue
        name = m.group(2)
        group = ("kernel" if "kernel" in name else "JIT-compiled .NET code" if "[JIT]" in name or "doublemapper" in name or name.endswith(".dll")
                 else "SQLite" if "sqlite" in name else ".NET runtime (GC, thread pool, JIT)" if "coreclr" in name or "clrjit" in name
                 else "OpenSSL (HMAC)" if "crypto" in name or "ssl" in name else "C library" if "libc" in name else "other")
        shares[group] = shares.get(group, 0) + float(m.group(1))
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))

# Inclusive shares (the function and everything it calls) of the paths that explain the cost.
paths = {
    "fsync (all files)": r"\[k\] __x64_sys_fsync$",
    "sending replies (sendto)": r"\[k\] __x64_sys_sendto$",
    "reading commands (recvfrom)": r"\[k\] __x64_sys_recvfrom$",
    "waiting for sockets (epoll_wait)": r"\[k\] __x64_sys_epoll_wait$",
    "file writes (pwrite64)": r"\[k\] __x64_sys_pwrite64$",
    "switching threads (schedule)": r"\[k\] schedule$",
    "the audit log's writer loop": r"FileAuditLog::Step\(",
    "the SQLite group commit loop": r"GroupCommit\+<LoopAsync>.*::MoveNext\(",
    "the sessions (command loop)": r"SmtpSession\+<CommandLoopAsync>.*::MoveNext\(",
}

def path_shares(path):
    found = {}
    for line in open(path):
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(.+?)\s*$", line)
        if not m:
            continue
        for label, pattern in paths.items():
            if label not in found and re.search(pattern, m.group(3)):
                found[label] = float(m.group(1))
    return found

profiles = []
for line in open(os.path.join(work, "runs.tsv")):
    name, messages, before, after, started, ended = line.rstrip("\n").split("\t")
    messages = int(messages)
    seconds = float(ended) - float(started)
    counts = {}
    for row in open(os.path.join(work, name + ".stat")):
        parts = row.strip().split(",")
        if len(parts) >= 3 and parts[0].replace(".", "").isdigit():
            counts[parts[2].replace("syscalls:sys_enter_", "")] = float(parts[0]) / messages
    profiles.append({
        "name": name,
        "messages": messages,
        "msgs_per_s": messages / seconds,
        "server_cpu_ms_per_msg": (int(float(after)) - int(float(before))) / hz * 1000 / messages,
        "per_message": counts,
        "cpu_by_binary_percent": dso_shares(os.path.join(work, name + ".dso")),
        "cpu_in_paths_percent": path_shares(os.path.join(work, name + ".sym")),
    })

result = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "commit": subprocess.run("git rev-parse --short HEAD", shell=True, capture_output=True, text=True).stdout.strip(),
    "load": "smtp-source -d -s 20 -l 1024 (20 sessions, 1 KiB, no pipelining), mailroom serve on SQLite, each run warmed with the same load first",
    "profiles": profiles,
}
json.dump(result, open(out, "w"), indent=2)
for p in profiles:
    print(f"\n{p['name']}: {p['msgs_per_s']:.0f} msgs/s, server CPU {p['server_cpu_ms_per_msg']:.3f} ms/msg")
    print("  per message: " + ", ".join(f"{k} {v:.2f}" for k, v in p["per_message"].items()))
    print("  CPU by binary: " + ", ".join(f"{k} {v:.1f}%" for k, v in p["cpu_by_binary_percent"].items()))
    print("  CPU in paths (inclusive): " + ", ".join(f"{k} {v:.1f}%" for k, v in p["cpu_in_paths_percent"].items()))
print(f"\nWritten to {out}")
PY
