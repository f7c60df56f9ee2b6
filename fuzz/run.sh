#!/usr/bin/env bash
# Coverage-guided fuzzing of Mailroom's parsers with AFL++ and SharpFuzz, for a bounded time.
#
#   fuzz/run.sh [--minutes N] [--target NAME|all] [--timeout MS] [--resume]
#   fuzz/run.sh --seconds N ...     N seconds per target instead (a quick check)
#   fuzz/run.sh --report [--target NAME|all]   only the summary, of the runs already in artifacts/fuzz
#
# Builds fuzz/Mailroom.Fuzz (Release) into artifacts/fuzz/bin, instruments the copies of
# Mailroom.Protocol, Mailroom.Client and Mailroom.Core there (never the normal build output), then
# runs one afl-fuzz at a time (one core) per target; with `all`, the minutes are split across the
# targets in turn. Findings land in artifacts/fuzz/<target>/default/{crashes,hangs}. Prints each
# target's figures from afl's fuzzer_stats and merges them into bench/results/fuzz.json (only the
# entries of the targets run are replaced, each with its own date, commit and seconds). Exits 1 if
# anything crashed or hung, listing the files, or if a run failed: afl-fuzz exited non-zero, or left
# no fuzzer_stats or 0 execs; 2 on a usage error. Replay a finding with:
#   dotnet artifacts/fuzz/bin/Mailroom.Fuzz.dll <target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

minutes=10
target=all
timeout_ms=2000
resume=0
per_target=""
report_only=0
failed=()   # targets whose afl-fuzz (or the timeout around it) exited non-zero
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seconds) per_target="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --timeout) timeout_ms="$2"; shift 2 ;;
    --resume) resume=1; shift ;;
    --report) report_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

if [ "$report_only" = 1 ]; then
  if [ "$target" = all ]; then
    targets=()
    shopt -s nullglob
    for d in artifacts/fuzz/*/default; do targets+=("$(basename "$(dirname "$d")")"); done
    shopt -u nullglob
    [ "${#targets[@]}" -gt 0 ] || { echo "no runs to report: no artifacts/fuzz/<target>/default" >&2; exit 1; }
  else
    targets=("$target")
  fi
else
  command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install -y afl++" >&2; exit 2; }
  sharpfuzz=$(command -v sharpfuzz || echo "$HOME/.dotnet/tools/sharpfuzz")
  [ -x "$sharpfuzz" ] || { echo "sharpfuzz not found: dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0" >&2; exit 2; }
fi

out="$root/artifacts/fuzz"
bin="$out/bin"
if [ "$report_only" = 0 ]; then
echo "Building and instrumenting into $bin ..."
rm -rf "$bin"
mkdir -p "$out"
dotnet publish fuzz/Mailroom.Fuzz -c Release -o "$bin" -nologo -v quiet >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
for dll in Mailroom.Protocol Mailroom.Client Mailroom.Core; do
  "$sharpfuzz" "$bin/$dll.dll" >>"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
done
harness=(dotnet "$bin/Mailroom.Fuzz.dll")

# The list is read whole first: `list | grep -q` could fail on SIGPIPE under pipefail.
mapfile -t known < <("${harness[@]}" list)
[ "${#known[@]}" -gt 0 ] || { echo "the harness lists no targets" >&2; exit 1; }
if [ "$target" = all ]; then
  targets=("${known[@]}")
else
  printf '%s\n' "${known[@]}" | grep -qx -- "$target" || { echo "unknown target '$target'; targets: ${known[*]}" >&2; exit 2; }
  targets=("$target")
fi
seconds=$(( minutes * 60 / ${#targets[@]} ))
[ "$seconds" -ge 10 ] || seconds=10
[ -z "$per_target" ] || seconds=$per_target

# Not pinned to a core (the machine is shared); AFL's checks for a native, instrumented binary do
# not apply to `dotnet`; SharpFuzz reports crashes itself, so core_pattern does not matter.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export MAILROOM_FUZZ_TMP

afl_pid=""
dir=""
# On Ctrl-C or TERM: `timeout` passes the INT on to afl-fuzz (which writes its stats and stops) and
# sends KILL 30 s later if it has not, so the wait is bounded; then the harness's temporary folder goes.
stop() {
  if [ -n "$afl_pid" ]; then
    kill -INT "$afl_pid" 2>/dev/null || true
    wait "$afl_pid" 2>/dev/null || true
    afl_pid=""
  fi
  [ -z "$dir" ] || rm -rf "$dir/tmp"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

for t in "${targets[@]}"; do
  dir="$out/$t"
  if [ "$resume" = 1 ] && [ -d "$dir/default" ]; then
    export AFL_AUTORESUME=1
  else
    rm -rf "$dir"
    unset AFL_AUTORESUME
  fi
  mkdir -p "$dir/tmp"
  git rev-parse HEAD >"$dir/commit"   # what was fuzzed, for the summary (also in --report later)
  MAILROOM_FUZZ_TMP="$dir/tmp"
  echo "Fuzzing $t for ${seconds}s ..."
  # -V ends the campaign; `timeout` only guards against afl-fuzz itself never stopping.
  timeout --signal=INT --kill-after=30 $(( seconds + 120 )) \
    afl-fuzz -V "$seconds" -t "$timeout_ms" -m none -i "fuzz/corpus/$t" -o "$dir" -- "${harness[@]}" "$t" \
    >"$dir/afl.log" 2>&1 &
  afl_pid=$!
  code=0
  wait "$afl_pid" || code=$?
  afl_pid=""
  if [ "$code" != 0 ]; then
    # An abort at start (a seed crashes, no instrumentation) or the timeout (124, 137) is a failed run.
    echo "  afl-fuzz on $t exited with $code (see $dir/afl.log):" >&2
    tail -n 5 "$dir/afl.log" | sed 's/^/    /' >&2
    failed+=("$t")
  fi
  rm -rf "$dir/tmp"
done
fi

summary=0
python3 - "$out" "${targets[@]}" <<'EOF' || summary=$?
import datetime, json, os, subprocess, sys

out, targets = sys.argv[1], sys.argv[2:]
results = "bench/results/fuzz.json"

def stats(path):
    figures = {}
    if os.path.exists(path):
        for line in open(path):
            key, _, value = line.partition(":")
            figures[key.strip()] = value.strip()
    return figures

def findings(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.startswith("id:")) if os.path.isdir(folder) else []

rows, found, missing = [], [], []
for t in targets:
    path = os.path.join(out, t, "default", "fuzzer_stats")
    if not os.path.exists(path):
        missing.append(t)
    s = stats(path)
    crashes = findings(os.path.join(out, t, "default", "crashes"))
    hangs = findings(os.path.join(out, t, "default", "hangs"))
    found += [(t, f) for f in crashes + hangs]
    commit_file = os.path.join(out, t, "commit")
    commit = open(commit_file).read().strip() if os.path.exists(commit_file) else \
        subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    ended = int(s["last_update"]) if "last_update" in s else datetime.datetime.now(datetime.timezone.utc).timestamp()
    rows.append({
        "target": t,
        "date": datetime.datetime.fromtimestamp(ended, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "seconds": int(s.get("run_time", 0)),
        "execs": int(s.get("execs_done", 0)),
        "execs_per_sec": float(s.get("execs_per_sec", 0)),
        "corpus_count": int(s.get("corpus_count", 0)),
        "corpus_found": int(s.get("corpus_found", 0)),
        "bitmap_cvg": s.get("bitmap_cvg", ""),
        "crashes": len(crashes),
        "hangs": len(hangs),
        "findings": [os.path.relpath(f) for f in crashes + hangs],
    })

print(f"\n{'target':<14}{'seconds':>8}{'execs':>10}{'execs/s':>9}{'corpus':>8}{'new':>6}{'bitmap':>9}{'crashes':>9}{'hangs':>7}")
for r in rows:
    print(f"{r['target']:<14}{r['seconds']:>8}{r['execs']:>10}{r['execs_per_sec']:>9.0f}{r['corpus_count']:>8}{r['corpus_found']:>6}{r['bitmap_cvg']:>9}{r['crashes']:>9}{r['hangs']:>7}")

# Merge per target: the targets just reported replace their own entries, the others are kept. Each
# entry has its own date (afl's last update), commit and seconds run. A target whose run failed (no
# fuzzer_stats, 0 execs) keeps its previous entry; the failure is reported below and exits 1.
entries = {}
if os.path.exists(results):
    with open(results) as f:
        previous = json.load(f)
    for e in previous.get("targets", []):
        e.setdefault("date", previous.get("date", ""))      # files written before entries had their own
        e.setdefault("commit", previous.get("commit", ""))
        entries[e["target"]] = e
written = [r for r in rows if r["target"] not in missing and r["execs"] > 0]
for r in written:
    entries[r["target"]] = r
summary = {
    "note": "per target, the last good run: date (UTC, when afl last updated its stats), commit fuzzed, seconds run; "
            "corpus_found: inputs afl kept for new coverage beyond the seeds; bitmap_cvg: share of the 64 KiB edge map hit",
    "targets": [entries[t] for t in sorted(entries)],
}
with open(results, "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
print(f"\nUpdated {', '.join(r['target'] for r in written) or 'no target'} in {results}")

failed = False
if found:
    print(f"\n{len(found)} crash(es) or hang(s):")
    for t, f in found:
        print(f"  dotnet artifacts/fuzz/bin/Mailroom.Fuzz.dll {t} '{os.path.relpath(f)}'")
    failed = True
for r in rows:
    if r["target"] in missing:
        print(f"\n{r['target']}: no fuzzer_stats in {os.path.join(out, r['target'], 'default')}: afl-fuzz did not run", file=sys.stderr)
        failed = True
    elif r["execs"] == 0:
        print(f"\n{r['target']}: 0 execs: afl-fuzz did not fuzz (see {os.path.join(out, r['target'], 'afl.log')})", file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
EOF
if [ "${#failed[@]}" -gt 0 ]; then
  echo "afl-fuzz failed on: ${failed[*]}" >&2
  exit 1
fi
exit "$summary"
