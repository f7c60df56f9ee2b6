#!/usr/bin/env bash
# A soak: mixed load against one `mailroom serve` for some minutes, sampling the server's resident
# memory, open file descriptors and threads, to show they stay flat (issue 9, item 6). The load,
# all at once, each kind in its own threads:
#   - plain senders on the MX port: connect, EHLO, five 1 KiB messages, QUIT, again (sessions
#     opening and closing all the time);
#   - senders on the submission port: STARTTLS, AUTH PLAIN, one message, QUIT;
#   - AUTH failures from another loopback address (127.0.0.2): STARTTLS, a wrong password, QUIT
#     (they soon meet the log-in throttle, which is part of the test);
#   - a large message (5 MB) every few seconds;
#   - mailbox sessions: STARTTLS, LOGN, READ INBOX, then five times NEXT, FLAG read and DELE, RTRN,
#     QUIT, on the mailbox the submitted mail goes to, so that it stays about the same size;
#   - slow clients (--tricklers, 100 by default) from 127.0.0.3, each sending its command lines a
#     byte every 0.3 s and holding a session about 15 s, then another: the memory sampled is the
#     memory with that many slow sessions open.
# It prints a sample every 10 seconds and, at the end, the first, second and last minute's means,
# the errors by kind and a verdict per measure, and writes them as JSON.
#
# Exits 1 (the JSON written all the same) when any request failed (errors not empty), when the
# server is gone at the end, or when a measure grew past its margin below: the first minute is
# warm-up, so the last minute's mean is compared with the SECOND minute's mean. A run shorter than
# 3 minutes compares the last sample with the first sample after the first minute instead, and one
# with no such pair of samples (under about 2 minutes) skips the trend check, saying so.
#
# Usage: bench/soak.sh [--minutes N] [--tricklers N] [--json FILE]   (default 10 minutes, 100 slow clients, bench/results/soak.json)
# Needs: dotnet, python3. Everything it starts is stopped and its folder removed on exit or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

# How far the last minute's mean may exceed the second minute's before the soak fails.
rss_margin_pct=25   # resident memory: +25 %
threads_margin=10   # threads: +10
fds_margin=20       # open file descriptors: +20

minutes=10
tricklers=100
json="bench/results/soak.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    --tricklers) tricklers="$2"; shift 2 ;;
    *) echo "usage: bench/soak.sh [--minutes N] [--tricklers N] [--json FILE]" >&2; exit 2 ;;
  esac
done

. bench/lib.sh soak

data="$work/data"
mkdir -p "$data"
dotnet "$cli" domain add soak.test --data "$data" >"$work/setup.log" 2>&1
echo "soak-password" | dotnet "$cli" user add user0@soak.test --password-stdin --data "$data" >>"$work/setup.log" 2>&1
echo "soak-password" | dotnet "$cli" user add user1@soak.test --password-stdin --data "$data" >>"$work/setup.log" 2>&1
smtp_port=$(free_port); submission_port=$(free_port)
MAILROOM__Smtp__ReverseDnsLookup=false \
MAILROOM__Smtp__MaxConnectionsPerAddress=1000 \
MAILROOM__Smtp__MaxMessageSize=20000000 \
MAILROOM__Logging__LogLevel__Default=Warning \
  dotnet "$cli" serve --data "$data" --smtp "127.0.0.1:$smtp_port" --submission "127.0.0.1:$submission_port" \
    --submissions 127.0.0.1:0 --domain soak.test >"$work/server.log" 2>&1 &
server_pid=$!
wait_until_listening "$work/server.log"

echo "Soaking for $minutes minute(s): server pid $server_pid, MX 127.0.0.1:$smtp_port, submission 127.0.0.1:$submission_port"
mkdir -p "$(dirname "$json")"
verdict=0
PID="$server_pid" SMTP_PORT="$smtp_port" SUBMISSION_PORT="$submission_port" MINUTES="$minutes" TRICKLERS="$tricklers" \
RSS_MARGIN_PCT="$rss_margin_pct" THREADS_MARGIN="$threads_margin" FDS_MARGIN="$fds_margin" \
  python3 - "$json" <<'PY' || verdict=$?
import json, os, smtplib, socket, ssl, sys, threading, time, datetime
from collections import Counter

out = sys.argv[1]
pid, smtp_port, sub_port = int(os.environ["PID"]), int(os.environ["SMTP_PORT"]), int(os.environ["SUBMISSION_PORT"])
seconds = float(os.environ["MINUTES"]) * 60
tricklers = int(os.environ["TRICKLERS"])
deadline = time.time() + seconds
# user0 takes the bulk (MX and large mail) and is never read; user1 gets the submitted mail and
# the mailbox sessions read and delete it, so the mailbox they open stays about the same size
# (a mailbox view holds its message list, so a mailbox that only grows would grow the server too).
user, reader, password = "user0@soak.test", "user1@soak.test", "soak-password"
tls = ssl.create_default_context()
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate; loopback only
done, errors, lock = Counter(), Counter(), threading.Lock()

def count(kind, ok=True, what=None):
    with lock:
        (done if ok else errors)[kind if ok else f"{kind}: {what}"] += 1

def message(size, subject):
    body = ("x" * 76 + "\r\n") * max(1, size // 78)
    return f"From: load@remote.test\r\nTo: {user}\r\nSubject: {subject}\r\n\r\n{body}"

def loop(kind, step, pause=0.0):
    while time.time() < deadline:
        try:
            step()
            count(kind)
        except Exception as ex:  # every failure is counted by its kind and type, never fatal to the soak
            count(kind, ok=False, what=type(ex).__name__ + " " + str(ex)[:60])
            time.sleep(0.2)
        if pause:
            time.sleep(pause)

def plain():
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as s:
        s.ehlo("plain.soak")
        for i in range(5):
            s.sendmail("load@remote.test", [user], message(1024, f"plain {i}"))

def submission():
    with smtplib.SMTP("127.0.0.1", sub_port, timeout=30) as s:
        s.ehlo("sub.soak"); s.starttls(context=tls); s.ehlo("sub.soak")
        s.login(reader, password)
        s.sendmail(reader, [reader], message(2048, "submitted"))

def auth_failure():
    with smtplib.SMTP("127.0.0.1", sub_port, timeout=30, source_address=("127.0.0.2", 0)) as s:
        s.ehlo("bad.soak"); s.starttls(context=tls); s.ehlo("bad.soak")
        try:
            s.login(user, "not the password")
            raise RuntimeError("a wrong password was accepted")
        except smtplib.SMTPAuthenticationError:
            pass  # 535, or 454 once the throttle holds this address back

def large():
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as s:
        s.ehlo("large.soak")
        s.sendmail("load@remote.test", [user], message(5_000_000, "large"))

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("closed")
        lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(lines[-1][:3]), lines

def mailbox():
    raw = socket.create_connection(("127.0.0.1", sub_port), timeout=30)
    f = raw.makefile("rb")
    code, _ = reply(f); assert code == 220
    raw.sendall(b"EHLO box.soak\r\n"); reply(f)
    raw.sendall(b"STARTTLS\r\n"); code, _ = reply(f); assert code == 220
    s = tls.wrap_socket(raw, server_hostname="localhost")
    f = s.makefile("rb")
    def cmd(line):
        s.sendall(line.encode() + b"\r\n")
        return reply(f)
    cmd("EHLO box.soak")
    code, _ = cmd(f"LOGN {reader} {password}"); assert code == 235, code
    code, _ = cmd("READ INBOX"); assert code == 250, code
    for _ in range(5):
        code, lines = cmd("NEXT")
        if code != 250:
            break
        octets = int(lines[-1].split(" octets follow")[0].split()[-1])
        got = 0
        while got < octets:
            got += len(f.read(min(65536, octets - got)))
        cmd("FLAG read")
        # 550 5.2.0: the other mailbox session deleted this message first (docs/PROTOCOL.md).
        code, lines = cmd("DELE"); assert code == 250 or lines[-1].startswith("550 5.2.0"), lines[-1]
    cmd("RTRN"); cmd("QUIT")
    s.close()

def trickle():
    # A slow client (slowloris): every command line a byte at a time, one byte each 0.3 s, from an
    # address of its own; it holds a session open about 15 s and starts again.
    with socket.create_connection(("127.0.0.1", smtp_port), timeout=60, source_address=("127.0.0.3", 0)) as c:
        f = c.makefile("rb")
        code, _ = reply(f); assert code == 220, code
        for line in (b"EHLO trickle.soak\r\n", b"NOOP\r\n", b"RSET\r\n", b"QUIT\r\n"):
            for i in range(len(line)):
                c.sendall(line[i:i + 1])
                time.sleep(0.3)
            code, _ = reply(f); assert code in (221, 250), code

def alive():
    # The server is this script's child: once it exits it is a zombie until reaped, still in /proc.
    try:
        return next(l for l in open(f"/proc/{pid}/status") if l.startswith("State:")).split()[1] != "Z"
    except (OSError, StopIteration):
        return False

def sample():
    status = open(f"/proc/{pid}/status").read().split("\n")
    field = lambda name: int(next(l for l in status if l.startswith(name)).split()[1])
    return {"t": round(seconds - (deadline - time.time()), 1), "rss_mb": field("VmRSS:") / 1024,
            "threads": field("Threads:"), "fds": len(os.listdir(f"/proc/{pid}/fd"))}

workers = [("plain", plain, 0)] * 4 + [("submission", submission, 0)] * 2 + [("auth failure", auth_failure, 0.5)] \
    + [("large", large, 3.0)] + [("mailbox", mailbox, 0.2)] * 2 + [("trickle", trickle, 0)] * tricklers
threads = [threading.Thread(target=loop, args=w, daemon=True) for w in workers]
for t in threads:
    t.start()
samples = []
print(f"{'seconds':>8} {'RSS MB':>8} {'threads':>8} {'fds':>6}   done so far")
while time.time() < deadline:
    time.sleep(min(10, max(0, deadline - time.time())))
    if not alive():
        print(f"the server (pid {pid}) is gone", flush=True)
        break
    try:
        s = sample()
    except (OSError, StopIteration):  # it exited between the two reads
        print(f"the server (pid {pid}) is gone", flush=True)
        break
    samples.append(s)
    with lock:
        so_far = ", ".join(f"{k} {v}" for k, v in sorted(done.items()))
    print(f"{s['t']:>8} {s['rss_mb']:>8.1f} {s['threads']:>8} {s['fds']:>6}   {so_far}", flush=True)
for t in threads:
    t.join(timeout=120)

measures = ("rss_mb", "threads", "fds")
def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows) if rows else None
def means(rows):
    return {k: mean(rows, k) for k in measures}

# The first minute is warm-up: the baseline is the second minute (or, in a run under 3 minutes,
# the first sample after the first minute), against the last minute (or the last sample).
margins = {"rss_mb": f"+{os.environ['RSS_MARGIN_PCT']}%", "threads": f"+{os.environ['THREADS_MARGIN']}",
           "fds": f"+{os.environ['FDS_MARGIN']}"}
def limit(k, base):
    if k == "rss_mb":
        return base * (1 + float(os.environ["RSS_MARGIN_PCT"]) / 100)
    return base + float(os.environ["THREADS_MARGIN" if k == "threads" else "FDS_MARGIN"])
first = [r for r in samples if r["t"] <= 60]
second = [r for r in samples if 60 < r["t"] <= 120]
last = [r for r in samples if r["t"] > seconds - 60]
after_warmup = [r for r in samples if r["t"] > 60]
if seconds >= 180 and second and last:
    compared, base, latest = "second minute's mean vs last minute's mean", means(second), means(last)
elif seconds < 180 and len(after_warmup) >= 2:
    compared, base, latest = (f"first sample after warm-up (t={after_warmup[0]['t']}) vs last sample (t={after_warmup[-1]['t']})",
                              means(after_warmup[:1]), means(after_warmup[-1:]))
else:
    compared, base, latest = None, None, None
trend = {"margins": margins, "compared": compared}
failures = []
if compared is None:
    trend["skipped"] = f"too few samples after the first minute (warm-up) in {seconds / 60:g} minute(s): trend not checked"
else:
    trend["measures"] = {}
    for k in measures:
        ok = latest[k] <= limit(k, base[k])
        trend["measures"][k] = {"baseline": base[k], "latest": latest[k], "limit": limit(k, base[k]), "verdict": "ok" if ok else "FAIL"}
        if not ok:
            failures.append(f"{k} grew from {base[k]:.1f} to {latest[k]:.1f}, past {margins[k]}")
if errors:
    failures.append(f"{sum(errors.values())} error(s)")
server_alive = alive()
if not server_alive:
    failures.append("the server is gone")

result = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "minutes": seconds / 60, "tricklers": tricklers, "samples": samples, "done": dict(done), "errors": dict(errors),
    "first_minute": means(first), "second_minute": means(second), "last_minute": means(last),
    "trend": trend, "server_alive_at_end": server_alive,
    "passed": not failures, "failures": failures,
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print()
fmt = lambda v: "-" if v is None else f"{v:.1f}"
for k in measures:
    print(f"{k:>8}: first minute {fmt(result['first_minute'][k])}, second minute {fmt(result['second_minute'][k])}, "
          f"last minute {fmt(result['last_minute'][k])}")
print("done:   " + ", ".join(f"{k} {v}" for k, v in sorted(done.items())))
print("errors: " + (", ".join(f"{k} x{v}" for k, v in sorted(errors.items())) or "none"))
if compared is None:
    print(f"trend:  {trend['skipped']}")
else:
    print(f"trend:  {compared}")
    for k, m in trend["measures"].items():
        print(f"{k:>8}: {fmt(m['baseline'])} -> {fmt(m['latest'])}, limit {fmt(m['limit'])} ({margins[k]}): {m['verdict']}")
print(f"server: {'running' if server_alive else 'GONE'} at the end")
print("verdict: " + ("passed" if not failures else "FAILED: " + "; ".join(failures)))
print(f"Written to {out}")
sys.exit(1 if failures else 0)
PY
exit "$verdict"
