#!/usr/bin/env bash
# Issue 9, item 5, run longer than CI does: load against a real `mailroom serve`, SIGKILLed at a
# random moment of each round and restarted on what the kill left, on SQLite and on PostgreSQL
# (a throwaway cluster the test starts, where PostgreSQL is installed). Every acknowledged
# message must be stored exactly once and whole; no message may be stored in part.
#
#   bench/crash.sh [--rounds N] [--seed S] [--store sqlite|postgres|all]
#
# The same tests run in CI with ten rounds and a fixed seed (CrashTests in Mailroom.Server.Tests
# and Mailroom.Scaling.Tests); this script only sets MAILROOM_CRASH_ROUNDS and MAILROOM_CRASH_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=100
seed=$(date +%s)
store=all
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --store) store="$2"; shift 2 ;;
    *) echo "usage: bench/crash.sh [--rounds N] [--seed S] [--store sqlite|postgres|all]" >&2; exit 2 ;;
  esac
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
  local project="$1" name="$2" started code=0
  started=$(date +%s)
  echo "== $name: $rounds SIGKILLs, seed $seed"
  MAILROOM_CRASH_ROUNDS="$rounds" MAILROOM_CRASH_SEED="$seed" \
    dotnet test "$project" --filter "FullyQualifiedName~CrashTests.Ten_sigkills" >"$log" 2>&1 || code=$?
  grep -E "^\s*(failed|succeeded|skipped): |seed [0-9]+" "$log" | cut -c1-400 || true
  echo "   $name took $(( $(date +%s) - started )) s, exit code $code"
  return "$code"
}

status=0
case "$store" in
  sqlite|all) run tests/Mailroom.Server.Tests SQLite || status=1 ;;
esac
case "$store" in
  postgres|all) run tests/Mailroom.Scaling.Tests PostgreSQL || status=1 ;;
esac
exit "$status"
