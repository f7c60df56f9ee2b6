#!/usr/bin/env bash
# Runs the protocol micro-benchmarks (bench/Mailroom.Microbench) in Release with BenchmarkDotNet's
# short job and memory diagnoser, and writes the GitHub-markdown report to OUT_DIR/results/.
#
#   bench/micro.sh OUT_DIR [BenchmarkDotNet arguments...]
#   bench/micro.sh artifacts/micro
#   bench/micro.sh artifacts/micro --filter '*CommandParser*'
#
# Without --filter every benchmark runs (a few minutes on two cores). docs/PERFORMANCE.md takes
# its micro-benchmark tables from OUT_DIR/micro-benchmarks.md (every report in one file, a
# heading per class), never typed by hand.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 OUT_DIR [BenchmarkDotNet arguments...]" >&2
  exit 2
fi

out=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

filter=()
if [[ " $* " != *" --filter "* && " $* " != *" -f "* ]]; then
  filter=(--filter '*')
fi

dotnet run -c Release --project "$root/bench/Mailroom.Microbench" -- \
  --job short --exporters github --artifacts "$out" "${filter[@]}" "$@"

# One file with every table, for docs/PERFORMANCE.md to include as it is.
summary="$out/micro-benchmarks.md"
{
  for report in "$out"/results/Mailroom.Microbench.*-report-github.md; do
    name=${report##*/Mailroom.Microbench.}
    echo "### ${name%-report-github.md}"
    echo
    cat "$report"
    echo
  done
} > "$summary"
echo "Reports: $out/results/*-report-github.md, all of them in $summary"
