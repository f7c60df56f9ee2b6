#!/usr/bin/env bash
# Mailroom against Postfix, in one run on one machine: the same load (1 KiB and 100 KiB messages,
# 20 sessions) against Postfix's smtp-sink (an SMTP receiver that stores nothing: the ceiling),
# against `mailroom serve` (durable: fsync and a SQLite commit before each 250) and, where Postfix
# is installed, against a private Postfix instance with its durable queue (smtpd, cleanup's fsync,
# then a discard transport). Each is driven by Postfix's smtp-source (the reference generator, so
# the figures compare with published ones) and by our bench (for latency percentiles). Then the
# memory runs: idle sessions, plaintext and TLS, and one 100 MB message.
#
# Usage: bench/compare.sh [--json FILE] [--quick]
#   --json FILE  where the figures go (default bench/results/compare.json)
#   --quick      a tenth of the messages and 1,000 idle sessions: a check that the script works
# Needs: dotnet, python3, postfix (smtp-sink and smtp-source come with Debian's postfix package).
# Everything it starts is stopped, and its temporary folder removed, on exit, failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

json="bench/results/compare.json"
quick=false
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json="$2"; shift 2 ;;
    --quick) quick=true; shift ;;
    *) echo "usage: bench/compare.sh [--json FILE] [--quick]" >&2; exit 2 ;;
  esac
done

for tool in dotnet python3 smtp-sink smtp-source; do
  command -v "$tool" >/dev/null || { echo "compare.sh needs $tool (smtp-sink and smtp-source: apt-get install postfix)" >&2; exit 2; }
done

sessions=20
small_messages=30000; large_messages=3000; idle_counts="2000 10000"
if $quick; then small_messages=3000; large_messages=300; idle_counts="1000"; fi

work=$(mktemp -d /tmp/mailroom-compare.XXXXXX)
chmod 755 "$work" # Postfix's daemons run as user postfix and must reach their queue in here
started=()        # pids of what this script runs in the background
postfix_config=""

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$postfix_config" ]; then
    postfix -c "$postfix_config" stop >/dev/null 2>&1
    local master
    master=$(tr -d ' ' < "$work/postfix/queue/pid/master.pid" 2>/dev/null)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [ -n "$master" ] && kill -0 "$master" 2>/dev/null || break
      sleep 0.5
    done
    [ -n "$master" ] && kill -KILL "$master" 2>/dev/null
  fi
  for pid in "${started[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${started[@]}"; do
    wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs one step in the background and waits for it. Bash runs the INT trap after a foreground
# child only if the child died of SIGINT, and dotnet catches Ctrl-C and carries on or exits 130;
# `wait` instead returns at once on Ctrl-C, so the trap runs and cleanup stops the step (SIGTERM:
# the bench then stops its own server and removes its folder) and everything else.
step() {
  "$@" &
  local pid=$! status=0
  started+=("$pid")
  wait "$pid" || status=$?
  local kept=() p
  for p in "${started[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  started=("${kept[@]}")
  return "$status"
}

# The idle runs hold 10,000 connections in the server and as many in the bench.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "Building (Release)..."
step dotnet build bench/Mailroom.Bench -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
cli="$root/src/Mailroom.Cli/bin/Release/net10.0/mailroom.dll"
step dotnet build src/Mailroom.Cli -c Release -v quiet -nologo >"$work/build-cli.log" 2>&1 || { cat "$work/build-cli.log"; exit 1; }
bench="$root/bench/Mailroom.Bench/bin/Release/net10.0/mailroom-bench.dll"

runs="$work/runs.tsv" # scenario, target, generator, messages, size, seconds, errors, bench json, cpu seconds
: > "$runs"

# --- the receivers -----------------------------------------------------------------------------

sink_port=$(free_port)
# -u: as root, smtp-sink drops to this user once the socket is open; 1000: the listen backlog.
sink_user=(); [ "$(id -u)" = 0 ] && sink_user=(-u nobody)
smtp-sink "${sink_user[@]}" -m 1000 "127.0.0.1:$sink_port" 1000 >"$work/smtp-sink.log" 2>&1 &
started+=($!)

postfix_port=""
postfix_note=""
start_postfix() {
  if ! command -v postfix >/dev/null; then
    postfix_note="skipped: postfix is not installed"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    postfix_note="skipped: a private Postfix instance must be started by root (its daemons run as user postfix)"
    return
  fi
  local pf="$work/postfix"
  mkdir -p "$pf/etc" "$pf/queue" "$pf/data"
  chown postfix "$pf/data"
  postfix_port=$(free_port)
  # A private instance: its own config, queue and data folders, loopback only. Mail for
  # bench.test is "local" and the local transport is discard:, so a message costs what smtpd,
  # cleanup (which fsyncs the queue file before smtpd answers 250) and the queue manager do.
  cat >"$pf/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination = bench.test
mynetworks = 127.0.0.0/8
local_transport = discard:
local_recipient_maps =
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
biff = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
EOF
  cat >"$pf/etc/master.cf" <<EOF
127.0.0.1:$postfix_port inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
  postfix_config="$pf/etc"
  if ! postfix -c "$pf/etc" start >"$work/postfix-start.log" 2>&1; then
    postfix_note="skipped: the private Postfix instance did not start: $(tail -3 "$pf/maillog" 2>/dev/null | tr '\n' ' ')"
    postfix_port=""
    return
  fi
  for _ in $(seq 50); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $postfix_port), 1).close()" 2>/dev/null && return
    sleep 0.2
  done
  postfix_note="skipped: the private Postfix instance is not listening on $postfix_port"
  postfix_port=""
}
start_postfix
[ -n "$postfix_note" ] && echo "Postfix with its queue: $postfix_note"

mailroom_pid=""
mailroom_port=""
start_mailroom() {
  local data="$work/mailroom-$1"
  mkdir -p "$data"
  dotnet "$cli" domain add bench.test --data "$data" >"$data.user.log" 2>&1 || { cat "$data.user.log"; exit 1; }
  echo "bench-password" | dotnet "$cli" user add user0@bench.test --password-stdin --data "$data" >>"$data.user.log" 2>&1 ||
    { cat "$data.user.log"; exit 1; }
  mailroom_port=$(free_port)
  MAILROOM__Audit__Enabled="${audit_enabled:-true}" \
  MAILROOM__Smtp__ReverseDnsLookup=false \
  MAILROOM__Smtp__MaxConnectionsPerAddress=100000 \
  MAILROOM__Smtp__MaxJunkCommands=100000 \
  MAILROOM__Logging__LogLevel__Default=Warning \
    dotnet "$cli" serve --data "$data" --smtp "127.0.0.1:$mailroom_port" --submission 127.0.0.1:0 \
      --submissions 127.0.0.1:0 --domain bench.test >"$data.log" 2>&1 &
  mailroom_pid=$!
  started+=("$mailroom_pid")
  for _ in $(seq 300); do
    grep -q "Listening for SMTP" "$data.log" && return
    kill -0 "$mailroom_pid" 2>/dev/null || { cat "$data.log"; exit 1; }
    sleep 0.2
  done
  echo "mailroom serve did not start:"; cat "$data.log"; exit 1
}

stop_mailroom() {
  kill -TERM "$mailroom_pid" 2>/dev/null || true
  wait "$mailroom_pid" 2>/dev/null || true
  rm -rf "$work/mailroom-$1"
}

cpu_seconds() { # user + system time of a process, from /proc/PID/stat
  [ -n "$1" ] || { echo ""; return; }
  python3 -c "f=open('/proc/$1/stat').read(); x=f[f.rindex(')')+2:].split(); print((int(x[11])+int(x[12]))/100)"
}

# --- the load ----------------------------------------------------------------------------------

# One measured run: smtp-source or the bench, against one receiver.
measure() { # scenario target port size messages generator [server pid]
  local scenario=$1 target=$2 port=$3 size=$4 messages=$5 generator=$6 pid=${7:-}
  local out="$work/$scenario-$target-$generator"
  local cpu_before cpu_after t0 t1 errors=0
  cpu_before=$(cpu_seconds "$pid")
  t0=$(date +%s.%N)
  if [ "$generator" = smtp-source ]; then
    # -d: every session sends its messages over one connection, as the bench does; -l: the body
    # length, not counting the few header lines smtp-source adds.
    smtp-source -d -s "$sessions" -l "$size" -m "$messages" -f load@remote.test -t user0@bench.test \
      "127.0.0.1:$port" >"$out.log" 2>&1 || errors=1
    t1=$(date +%s.%N)
    errors=$(( errors + $(grep -c . "$out.log" || true) ))
    echo -e "$scenario\t$target\t$generator\t$messages\t$size\t$(python3 -c "print($t1-$t0)")\t$errors\t\t" >>"$runs"
  else
    step dotnet "$bench" --server "127.0.0.1:$port" --sessions "$sessions" --messages $(( messages / sessions )) \
      --size "$size" --json "$out.json" >"$out.log" 2>&1 || errors=1
    # The bench's own count and time: from its first connection to its last 250, no start-up.
    local counted
    counted=$(python3 -c "import json; b=json.load(open('$out.json')); print(b['Messages'], b['Seconds'])" 2>/dev/null || echo "0 1")
    echo -e "$scenario\t$target\t$generator\t${counted% *}\t$size\t${counted#* }\t$errors\t$out.json\t" >>"$runs"
  fi
  if [ -n "$pid" ]; then
    cpu_after=$(cpu_seconds "$pid")
    sed -i '$ s/\t$/\t'"$(python3 -c "print($cpu_after-$cpu_before)")"'/' "$runs"
  fi
  tail -1 "$runs" | awk -F'\t' '{ printf "  %-10s %-16s %-12s %6d msgs in %7.2f s = %8.0f msgs/s (errors: %s)\n", $1, $2, $3, $4, $6, $4/$6, $7 }'
}

scenario() { # name size messages
  local name=$1 size=$2 messages=$3
  echo "Scenario $name: $sessions sessions, $messages messages of $size octets"
  start_mailroom "$name"
  local targets=("smtp-sink:$sink_port:" "mailroom:$mailroom_port:$mailroom_pid")
  [ -n "$postfix_port" ] && targets+=("postfix-queue:$postfix_port:")
  for entry in "${targets[@]}"; do
    IFS=: read -r target port pid <<<"$entry"
    # Warm-up, not measured, as long as a measured run: connections and caches, and for mailroom
    # the JIT, which goes on compiling the hot code again, optimised, for some seconds of load.
    smtp-source -d -s "$sessions" -l "$size" -m "$messages" -f load@remote.test -t user0@bench.test "127.0.0.1:$port" >/dev/null 2>&1 || true
    measure "$name" "$target" "$port" "$size" "$messages" smtp-source "$pid"
    measure "$name" "$target" "$port" "$size" "$messages" bench "$pid"
  done
  python3 -c "import sys; print(int([l for l in open('/proc/$mailroom_pid/status') if l.startswith('VmHWM:')][0].split()[1])*1024)" >"$work/$name-mailroom-peak-rss"
  stop_mailroom "$name"
}

scenario 1k 1024 "$small_messages"
scenario 100k 102400 "$large_messages"

# --- the audit log -----------------------------------------------------------------------------
# The 1 KiB load from smtp-source (the reference generator, so this is the durable-throughput
# figure itself) on fresh servers with the audit log on and off, in the order on, off, off, on,
# so a drift of the machine weighs on both alike; each warmed with one unmeasured run first.

echo "The audit log: smtp-source, 1 KiB, on fresh servers with the audit log on, off, off, on"
audit_runs="$work/audit.tsv"
: >"$audit_runs"
audit_run() { # name, true|false
  audit_enabled=$2 start_mailroom "audit-$1"
  smtp-source -d -s "$sessions" -l 1024 -m "$small_messages" -f load@remote.test -t user0@bench.test "127.0.0.1:$mailroom_port" >/dev/null 2>&1 || true
  runs="$audit_runs" measure audit "mailroom-audit-$1" "$mailroom_port" 1024 "$small_messages" smtp-source "$mailroom_pid"
  stop_mailroom "audit-$1"
}
audit_run on-1 true
audit_run off-1 false
audit_run off-2 false
audit_run on-2 true

# --- the stores --------------------------------------------------------------------------------
# mailroom-bench on servers it starts itself (each warmed with the same load first): SQLite with the
# audit log on and off (the bench's view of the same question), then PostgreSQL with one node and
# with two, where PostgreSQL's server binaries are installed.

echo "The stores: mailroom-bench on servers of its own"
store_runs=()
store_load=(--sessions "$sessions" --messages $(( small_messages / sessions / 3 )) --size 1024)
store_run() { # name, then bench arguments
  local name=$1; shift
  local status=0
  step dotnet "$bench" "${store_load[@]}" "$@" --json "$work/store-$name.json" >"$work/store-$name.txt" 2>&1 || status=$?
  grep -E "^(target|audit log|messages/s|latency|server CPU)" "$work/store-$name.txt" | sed "s/^/  $name: /"
  [ "$status" -eq 0 ] || { echo "  ($name had failures)"; sed 's/^/    /' "$work/store-$name.txt" | tail -5; }
  store_runs+=("$work/store-$name.json")
}
store_run sqlite-audit-on-1 --audit on
store_run sqlite-audit-off-1 --audit off
store_run sqlite-audit-off-2 --audit off
store_run sqlite-audit-on-2 --audit on
if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  store_run postgres-1-node --store postgres --nodes 1
  store_run postgres-2-nodes --store postgres --nodes 2
else
  echo "  PostgreSQL's server binaries are not installed: no PostgreSQL runs (apt-get install postgresql)"
fi

# --- memory ------------------------------------------------------------------------------------

echo "Memory: idle sessions and one 100 MB message (each on a fresh server the bench starts)"
memory_runs=()
for n in $idle_counts; do
  for tls in false true; do
    name="idle-$n-$([ "$tls" = true ] && echo tls || echo plain)"
    args=(--idle "$n"); [ "$tls" = true ] && args+=(--idle-tls)
    status=0
    step dotnet "$bench" "${args[@]}" --json "$work/$name.json" >"$work/$name.txt" 2>&1 || status=$?
    sed 's/^/  /' "$work/$name.txt"
    [ "$status" -eq 0 ] || echo "  ($name had failures)"
    memory_runs+=("$work/$name.json")
  done
done
status=0
step dotnet "$bench" --one-message-size 104857600 --json "$work/one-message.json" >"$work/one-message.txt" 2>&1 || status=$?
sed 's/^/  /' "$work/one-message.txt"
[ "$status" -eq 0 ] || echo "  (the 100 MB message was not accepted)"
memory_runs+=("$work/one-message.json")

# --- the figures -------------------------------------------------------------------------------

fs=$(df --output=fstype "$work" | tail -1 | tr -d ' ')
mkdir -p "$(dirname "$json")"
RUNS="$runs" WORK="$work" FS="$fs" POSTFIX_NOTE="$postfix_note" QUICK="$quick" SESSIONS="$sessions" \
  STORE_RUNS="${store_runs[*]}" AUDIT_RUNS="$audit_runs" python3 - "$json" "${memory_runs[@]}" <<'PY'
import json, os, platform, subprocess, sys, datetime

out, memory_files = sys.argv[1], sys.argv[2:]
store_files = os.environ["STORE_RUNS"].split()
work = os.environ["WORK"]

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem_kb = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal:")))
machine = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": os.cpu_count(),
    "cpu": cpu,
    "memory_gb": round(mem_kb / 1024 / 1024, 1),
    "kernel": platform.release(),
    "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
    "temp_filesystem": os.environ["FS"],
    "dotnet": sh("dotnet --version"),
    "postfix": sh("postconf -d -h mail_version"),
    "commit": sh("git rev-parse --short HEAD"),
    "load_average_at_end": open("/proc/loadavg").read().split()[:3],
}

runs = []
for line in open(os.environ["RUNS"]):
    scenario, target, generator, messages, size, seconds, errors, bench_json, cpu_s = line.rstrip("\n").split("\t")
    messages, size, seconds = int(messages), int(size), float(seconds)
    run = {"scenario": scenario, "target": target, "generator": generator, "size": size}
    if generator == "bench" and bench_json and os.path.exists(bench_json):
        b = json.load(open(bench_json))
        run.update(messages=b["Messages"], seconds=b["Seconds"], msgs_per_s=b["MessagesPerSecond"], mb_per_s=b["MegabytesPerSecond"],
                   p50_ms=b["LatencyP50Ms"], p99_ms=b["LatencyP99Ms"], max_ms=b["LatencyMaxMs"],
                   errors=sum(b["Errors"].values()) + int(errors))
    else:
        # smtp-source reports nothing: messages over the wall time of the run; MB/s counts the body (-l) only.
        run.update(messages=messages, seconds=seconds, msgs_per_s=messages / seconds, mb_per_s=messages * size / seconds / 1e6, errors=int(errors))
    if cpu_s:
        run["server_cpu_ms_per_msg"] = float(cpu_s) * 1000 / max(run["messages"], 1)
    runs.append(run)

for run in runs:
    sink = next((r for r in runs if r["scenario"] == run["scenario"] and r["generator"] == run["generator"] and r["target"] == "smtp-sink"), None)
    run["ratio_to_sink"] = run["msgs_per_s"] / sink["msgs_per_s"] if sink and sink["msgs_per_s"] else None
    queue = next((r for r in runs if r["scenario"] == run["scenario"] and r["generator"] == run["generator"] and r["target"] == "postfix-queue"), None)
    run["ratio_to_postfix_queue"] = run["msgs_per_s"] / queue["msgs_per_s"] if queue and queue["msgs_per_s"] else None

peak = {}
for scenario in ("1k", "100k"):
    p = os.path.join(work, f"{scenario}-mailroom-peak-rss")
    if os.path.exists(p):
        peak[scenario] = int(open(p).read()) / 1e6

memory = {os.path.basename(f)[:-5]: json.load(open(f)) for f in memory_files if os.path.exists(f)}

stores = []
for f in store_files:
    if not os.path.exists(f):
        continue
    b = json.load(open(f))
    s = b["Settings"]
    stores.append({
        "name": os.path.basename(f)[len("store-"):-5], "store": s["Store"], "nodes": s["Nodes"], "audit": s["Audit"],
        "sessions": s["Sessions"], "messages": b["Messages"], "warmup_per_session": s.get("WarmupPerSession", 0),
        "msgs_per_s": b["MessagesPerSecond"], "p50_ms": b["LatencyP50Ms"], "p99_ms": b["LatencyP99Ms"], "max_ms": b["LatencyMaxMs"],
        "server_cpu_ms_per_msg": b["ServerCpuMsPerMessage"], "database_cpu_ms_per_msg": b.get("DatabaseCpuMsPerMessage"),
        "server_peak_rss_mb": b["ServerPeakRssMb"], "errors": sum(b["Errors"].values()),
    })

def find(scenario, target, generator):
    return next((r for r in runs if (r["scenario"], r["target"], r["generator"]) == (scenario, target, generator)), None)

targets = []
def target(name, value, limit, met, unit=""):
    targets.append({"target": name, "value": value, "limit": limit, "met": met, "unit": unit})

for gen in ("smtp-source", "bench"):
    r = find("1k", "mailroom", gen)
    if r and r["ratio_to_sink"] is not None:
        target(f"durable 1 KiB x 20 sessions, msgs/s ratio to smtp-sink ({gen})", r["ratio_to_sink"], ">= 0.35", r["ratio_to_sink"] >= 0.35)
r = find("1k", "mailroom", "bench")
if r:
    target("p99 end of DATA to 250, 1 KiB x 20 sessions (bench)", r["p99_ms"], "<= 20 ms", r["p99_ms"] <= 20, "ms")
for gen in ("smtp-source", "bench"):
    r = find("100k", "mailroom", gen)
    if r and r["ratio_to_sink"] is not None:
        target(f"100 KiB x 20 sessions, MB/s ratio to smtp-sink ({gen})", r["ratio_to_sink"], ">= 0.5", r["ratio_to_sink"] >= 0.5)
one = memory.get("one-message")
if one:
    target("100 MB message: server peak RSS increase", one["PeakDeltaMb"], "< 16 MB", one["PeakDeltaMb"] < 16 and one["Outcome"].startswith("accepted"), "MB")
for key, m in sorted(memory.items()):
    if key.startswith("idle-") and not m["Tls"]:
        target(f"idle plaintext session ({m['Sessions']} open)", m["KibPerSession"], "<= 4 KiB", m["KibPerSession"] <= 4 and m["Opened"] == m["Sessions"] and m["ClosedByServer"] == 0, "KiB")

audit = []
for line in open(os.environ["AUDIT_RUNS"]):
    scenario, target_name, generator, messages, size, seconds, errors, _, cpu_s = line.rstrip("\n").split("\t")
    r = {"name": target_name[len("mailroom-audit-"):], "audit": "on" if "-on-" in target_name + "-" else "off",
         "messages": int(messages), "msgs_per_s": int(messages) / float(seconds), "errors": int(errors)}
    if cpu_s:
        r["server_cpu_ms_per_msg"] = float(cpu_s) * 1000 / max(r["messages"], 1)
    audit.append(r)

def mean(values):
    return sum(values) / len(values) if values else None

audit_cost = audit_cost_bench = None
on, off = mean([r["msgs_per_s"] for r in audit if r["audit"] == "on"]), mean([r["msgs_per_s"] for r in audit if r["audit"] == "off"])
if on and off:
    audit_cost = 1 - on / off
    target("audit log on: 1 KiB msgs/s below audit off (smtp-source, mean of on-off-off-on)", audit_cost * 100, "<= 15 %", audit_cost <= 0.15, "%")
on, off = mean([r["msgs_per_s"] for r in stores if r["store"] == "sqlite" and r["audit"] == "on"]), mean([r["msgs_per_s"] for r in stores if r["store"] == "sqlite" and r["audit"] == "off"])
if on and off:
    audit_cost_bench = 1 - on / off

result = {
    "note": "Figures from one run on a shared machine where another session was working in parallel: noisy.",
    "quick": os.environ["QUICK"] == "true",
    "sessions": int(os.environ["SESSIONS"]),
    "machine": machine,
    "postfix_queue": os.environ["POSTFIX_NOTE"] or "measured: a private instance, smtpd -> cleanup (fsync) -> qmgr -> discard",
    "runs": runs,
    "mailroom_peak_rss_mb": peak,
    "memory": memory,
    "stores": stores,
    "audit": audit,
    "audit_cost": audit_cost,
    "audit_cost_bench": audit_cost_bench,
    "targets": targets,
}
json.dump(result, open(out, "w"), indent=2)

print()
print(f"{'scenario':<9}{'target':<15}{'generator':<13}{'msgs/s':>9}{'MB/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
for r in runs:
    ratio = f"{r['ratio_to_sink']:.3f}" if r["ratio_to_sink"] is not None else "-"
    p50 = f"{r['p50_ms']:.2f}" if "p50_ms" in r else "-"
    p99 = f"{r['p99_ms']:.2f}" if "p99_ms" in r else "-"
    print(f"{r['scenario']:<9}{r['target']:<15}{r['generator']:<13}{r['msgs_per_s']:>9.0f}{r['mb_per_s']:>9.2f}{ratio:>8}{p50:>9}{p99:>9}{r['errors']:>8}")
print()
for t in targets:
    print(f"{'MET    ' if t['met'] else 'NOT MET'} {t['target']}: {t['value']:.3f}{t['unit']} (target {t['limit']})")
print(f"\nWritten to {out}")
PY
