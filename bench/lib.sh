# Shared by bench/profile.sh and bench/soak.sh (sourced, after `cd` to the repository root):
# a temporary folder in $work, removed on exit, failure or Ctrl-C together with the server whose
# pid the script puts in $server_pid (TERM, then KILL if it is still running 30 s later);
# wait_until_listening; free_port;
# and the Release build of mailroom in $cli.
# Usage: . bench/lib.sh NAME   (the folder is /tmp/mailroom-NAME.XXXXXX)

work=$(mktemp -d "/tmp/mailroom-$1.XXXXXX")
server_pid=""
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    if ! exited_within 30 "$server_pid"; then
      echo "server $server_pid still running 30 s after TERM: KILL" >&2
      kill -KILL "$server_pid" 2>/dev/null
    fi
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
  exit "$status"
}
# exited_within SECONDS PID: true once PID has exited (gone, or a zombie not yet waited for, which
# `kill -0` would still see), false if it is still running after SECONDS.
exited_within() {
  local state end=$(( SECONDS + $1 ))
  while :; do
    state=$(awk '/^State:/ { print $2 }' "/proc/$2/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] || return 0
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until_listening LOG: returns once the server started in the background (its pid in
# $server_pid) says it listens in LOG; prints LOG and exits if the server dies first.
wait_until_listening() {
  for _ in $(seq 300); do
    grep -q "Listening for SMTP" "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$1"; exit 1; }
    sleep 0.2
  done
  echo "the server did not start listening in 60 s" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "Building (Release)..."
dotnet build src/Mailroom.Cli -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
cli="$(pwd)/src/Mailroom.Cli/bin/Release/net10.0/mailroom.dll"
