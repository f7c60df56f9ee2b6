# Shared by bench/profile.sh and bench/soak.sh (sourced, after `cd` to the repository root):
# a temporary folder in $work, removed on exit, failure or Ctrl-C together with the server whose
# pid the script puts in $server_pid; free_port; and the Release build of mailroom in $cli.
# Usage: . bench/lib.sh NAME   (the folder is /tmp/mailroom-NAME.XXXXXX)

work=$(mktemp -d "/tmp/mailroom-$1.XXXXXX")
server_pid=""
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

echo "Building (Release)..."
dotnet build src/Mailroom.Cli -c Release -v quiet -nologo >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
cli="$(pwd)/src/Mailroom.Cli/bin/Release/net10.0/mailroom.dll"
