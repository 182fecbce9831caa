"""Webhook throughput: the real app against floor apps under the same gunicorn settings.

Posts signed plaintext text messages (each with a new MsgId, realistic questions from
residents) with wrk to `bot:create_app()` and to the floors of bench/floor_app.py, which
only check the signature, parse with wechatpy and echo: the issue's floor, a Flask view,
and a bare WSGI callable without Flask ("bare"; legalbot answers /wechat outside Flask
too, so real/bare is the cost of legalbot's own work). Prints requests/s and p50/p99
latency for each, the ratio real/floor against the targets (>= 0.7; real p99 < 50 ms
at 32 senders) and real/bare, and checks with `legalbot stats summary --json` that
every 200 was recorded once.

    python bench/bench_webhook.py [--seconds 10] [--rounds 3] [--concurrency 32]
        [--workers 2] [--threads 8] [--database sqlite|URL] [--redis redis://127.0.0.1:6379/0]

Each round loads the floor, the bare floor, then the real app, each with a fresh wrk
(fresh connections). The figures reported are the medians over the rounds: which gunicorn
worker accepts each of wrk's keep-alive connections is a race, and a round where one
worker holds all of them measures one process instead of two, for either app.

Everything runs on 127.0.0.1 and stops after a bounded time; both servers are stopped
whatever happens. Needs wrk (Debian/Ubuntu: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
TOKEN = "benchtoken"
TARGET_RATIO = 0.7
TARGET_P99_MS = 50.0
TARGET_CONCURRENCY = 32
START_TIMEOUT = 90.0  # the real app loads jieba and builds its index in every worker
WARMUP_SECONDS = 3

# What residents of the township actually ask: some match an entry, some get suggestions.
QUESTIONS = [
    "老板拖欠工资三个月了，去哪里讨要？",
    "有人打电话说是公安局的，让我把钱转到安全账户",
    "邻居家盖房子占了我家的路，找谁调解？",
    "在超市买到过期的食品，能要求赔偿吗？",
    "儿子不给老人赡养费，老人可以起诉吗？",
    "离婚以后孩子的抚养费怎么算？",
    "骑电动车被汽车撞了，对方不赔钱怎么办？",
    "承包的土地被村里收回去了，合法吗？",
    "家里困难请不起律师，怎么申请法律援助？",
    "在工地干活摔伤了，算不算工伤？",
    "网上说交钱就能办贷款，是不是骗子？",
    "宅基地的纠纷应该去哪里解决？",
]

# One wrk Lua state per wrk thread: `tid` is set by setup(), `sent` and the counters are
# that thread's globals, read back by done() in the main state. Each request is signed
# as WeChat signs one, with the current time and a nonce of its own: the webhook refuses
# a (timestamp, nonce) it has seen with another body. SHA-1 in LuaJIT's bit operations
# (wrk's Lua has no digest of its own): a few microseconds a request.
LUA = r"""
local token = "%(token)s"
local base = "%(base)s"
local bit = require("bit")
local band, bor, bxor, bnot, rol = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol
local lshift, rshift, tobit, tohex = bit.lshift, bit.rshift, bit.tobit, bit.tohex

local function sha1(msg)
  local len = #msg
  local bits = len * 8
  msg = msg .. "\128" .. string.rep("\0", (55 - len) %% 64) .. "\0\0\0\0"
    .. string.char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
                   band(rshift(bits, 8), 255), band(bits, 255))
  local h0, h1, h2, h3, h4 =
    tobit(0x67452301), tobit(0xEFCDAB89), tobit(0x98BADCFE), tobit(0x10325476), tobit(0xC3D2E1F0)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local a, b, c, d = string.byte(msg, chunk + i * 4, chunk + i * 4 + 3)
      w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 79 do w[i] = rol(bxor(w[i - 3], w[i - 8], w[i - 14], w[i - 16]), 1) end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif i < 40 then f, k = bxor(b, c, d), 0x6ED9EBA1
      elseif i < 60 then f, k = bor(band(b, c), band(b, d), band(c, d)), 0x8F1BBCDC
      else f, k = bxor(b, c, d), 0xCA62C1D6 end
      a, b, c, d, e = tobit(rol(a, 5) + f + e + k + w[i]), a, rol(b, 30), c, d
    end
    h0, h1, h2 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c)
    h3, h4 = tobit(h3 + d), tobit(h4 + e)
  end
  return tohex(h0) .. tohex(h1) .. tohex(h2) .. tohex(h3) .. tohex(h4)
end

local function signed_path()
  local timestamp = tostring(os.time())
  local nonce = base .. string.format("%%02d%%09d", tid, sent)
  local parts = { token, timestamp, nonce }
  table.sort(parts)
  return "/wechat?signature=" .. sha1(table.concat(parts)) .. "&timestamp=" .. timestamp
    .. "&nonce=" .. nonce
end
local questions = { %(questions)s }
local headers = { ["Content-Type"] = "text/xml" }
local threads = {}
local next_tid = 0

sent, ok, replied = 0, 0, 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  local question = questions[(sent + tid) %% #questions + 1]
  local openid = string.format("oBench%%02d%%020d", tid, sent %% 500)
  local body = "<xml><ToUserName><![CDATA[gh_township]]></ToUserName>"
    .. "<FromUserName><![CDATA[" .. openid .. "]]></FromUserName>"
    .. "<CreateTime>" .. os.time() .. "</CreateTime>"
    .. "<MsgType><![CDATA[text]]></MsgType>"
    .. "<Content><![CDATA[" .. question .. "]]></Content>"
    .. "<MsgId>" .. base .. string.format("%%02d%%07d", tid, sent) .. "</MsgId></xml>"
  return wrk.format("POST", signed_path(), headers, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    if string.sub(body, 1, 4) == "<xml" then replied = replied + 1 end
  end
end

function done(summary, latency, requests)
  local s, o, r = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); o = o + t:get("ok"); r = r + t:get("replied")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"duration_us": %%d, "requests": %%d, "sent": %%d, "ok": %%d, '
    .. '"replied": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, '
    .. '"timeout": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d}\n',
    summary.duration, summary.requests, s, o, r, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass
class Server:
    name: str
    app: str
    port: int
    log: Path
    ready_path: str
    proc: subprocess.Popen | None = None


@dataclass
class Result:
    requests_per_s: float
    figures: dict = field(default_factory=dict)
    cpu_us: float = 0.0  # the server's processes' CPU time per answered request

    @property
    def p50_ms(self) -> float:
        return self.figures["p50_us"] / 1000

    @property
    def p99_ms(self) -> float:
        return self.figures["p99_us"] / 1000

    @property
    def errors(self) -> int:
        f = self.figures
        return f["connect"] + f["read"] + f["write"] + f["timeout"] + (f["requests"] - f["ok"])


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print(
            "bench: wrk is not installed. Install it with `apt-get install -y wrk` "
            "(Debian/Ubuntu) or `brew install wrk` (macOS), then run this again.",
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="legalbot-bench-") as tmp:
        return run(args, Path(tmp))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per app")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of floor, bare, real; medians are reported"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="'sqlite' (a fresh file in a temporary folder) or a SQLAlchemy URL",
    )
    parser.add_argument("--redis", default="", help="Redis URL for the real app's state")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    if not 1 <= args.concurrency <= 1024:
        parser.error("--concurrency must be between 1 and 1024")
    return args


def run(args: argparse.Namespace, tmp: Path) -> int:
    database = f"sqlite:///{tmp / 'bench.db'}" if args.database == "sqlite" else args.database
    env = dict(os.environ)
    env.update(
        LEGALBOT_WECHAT_TOKEN=TOKEN,
        LEGALBOT_SECRET_KEY=secrets.token_hex(16),
        LEGALBOT_DATABASE_URL=database,
    )
    if args.redis:
        env["LEGALBOT_REDIS_URL"] = args.redis
    env.pop("LEGALBOT_CONFIG", None)
    legalbot(env, "db", "upgrade")
    servers = [
        Server("floor", "floor_app:create_app()", free_port(), tmp / "floor.log", signed_get()),
        Server("bare", "floor_app:create_bare_app()", free_port(), tmp / "bare.log", signed_get()),
        Server("real", "bot:create_app()", free_port(), tmp / "real.log", "/healthz"),
    ]
    rounds: dict[str, list[Result]] = {server.name: [] for server in servers}
    recorded_ok = True
    try:
        for server in servers:
            start(server, args, env)
        for server in servers:
            wait_ready(server)
            print(f"{server.name}: warming up {WARMUP_SECONDS} s ...", flush=True)
            load(server, tmp, WARMUP_SECONDS, args.concurrency)
        for number in range(1, args.rounds + 1):
            for server in servers:
                before = settled_count(env) if server.name == "real" else 0
                print(f"round {number}: {server.name}, {args.seconds} s ...", flush=True)
                result = load(server, tmp, args.seconds, args.concurrency)
                rounds[server.name].append(result)
                if server.name == "real":
                    received = settled_count(env) - before
                    recorded_ok = check_records(received, result) and recorded_ok
    finally:
        for server in servers:
            stop(server)
    report(args, rounds)
    if not recorded_ok or any(r.errors for r in rounds["real"]):
        print("\n--- tail of the real app's log ---")
        print(tail(servers[-1].log))
    return 0 if recorded_ok else 1


def legalbot(env: dict[str, str], *argv: str) -> str:
    """Run the `legalbot` command (this interpreter's) from the repository root."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench: legalbot {' '.join(argv)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_query() -> str:
    """A valid plaintext-mode query: the signature covers only token, timestamp and nonce."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"


def signed_get() -> str:
    return f"/wechat?{signed_query()}&echostr=ready"


def start(server: Server, args: argparse.Namespace, env: dict[str, str]) -> None:
    """gunicorn with the same settings for both apps; only the app differs."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{server.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
        "--pythonpath",
        str(BENCH_DIR),
        server.app,
    ]
    with server.log.open("w") as log:
        server.proc = subprocess.Popen(
            command,
            cwd=ROOT,  # the real app finds config.toml and content/ here
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(server: Server) -> None:
    url = f"http://127.0.0.1:{server.port}{server.ready_path}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"bench: {server.name} server exited:\n{tail(server.log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    print(f"{server.name}: up on 127.0.0.1:{server.port}", flush=True)
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(
        f"bench: {server.name} not up after {START_TIMEOUT:.0f} s:\n{tail(server.log)}"
    )


def load(server: Server, tmp: Path, seconds: int, concurrency: int) -> Result:
    """One wrk run; each request carries a new MsgId and nonce (the base differs per run)."""
    base = str(int(time.time() * 10) % 10**10).rjust(10, "1")
    questions = ", ".join(
        '"' + q.replace("\\", "\\\\").replace('"', '\\"') + '"' for q in QUESTIONS
    )
    script = tmp / "post.lua"
    script.write_text(LUA % {"token": TOKEN, "base": base, "questions": questions}, "utf-8")
    command = [
        "wrk",
        "--threads",
        str(min(2, concurrency)),
        "--connections",
        str(concurrency),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "--script",
        str(script),
        f"http://127.0.0.1:{server.port}/",
    ]
    cpu_before = server_cpu(server)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    cpu = server_cpu(server) - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"bench: wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.M)
    figures = re.search(r"^BENCH-JSON (\{.*\})$", done.stdout, re.M)
    if not rate or not figures:
        raise SystemExit(f"bench: cannot read wrk's output:\n{done.stdout}")
    result = Result(float(rate.group(1)), json.loads(figures.group(1)))
    result.cpu_us = cpu / max(result.figures["ok"], 1) * 1e6
    return result


def server_cpu(server: Server) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and its workers.

    Steadier than requests/s on a shared machine: time stolen by neighbours slows the
    clock but is not charged to the process. Read from /proc (Linux); 0 elsewhere.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [server.proc.pid]
    while todo:
        pid = todo.pop()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:  # gone, or not Linux
            continue
        total += (int(stat[11]) + int(stat[12])) / tick  # utime, stime
        todo += [int(c) for c in children]
    return total


def settled_count(env: dict[str, str]) -> int:
    """messages_received once it stops moving (answers still in flight get recorded)."""
    last = -1
    for _ in range(20):
        count = json.loads(legalbot(env, "stats", "summary", "--json"))["messages_received"]
        if count == last:
            return count
        last = count
        time.sleep(0.5)
    return last


def stop(server: Server) -> None:
    """SIGTERM for a graceful stop, then SIGKILL to the server's own process group."""
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def report(args: argparse.Namespace, rounds: dict[str, list[Result]]) -> None:
    floors, bares, reals = rounds["floor"], rounds["bare"], rounds["real"]
    print()
    print(
        f"gunicorn gthread, {args.workers} workers x {args.threads} threads; wrk 2 threads, "
        f"{args.concurrency} connections, {args.rounds} rounds of {args.seconds} s per app; "
        f"database {'SQLite (temp file)' if args.database == 'sqlite' else 'URL given'}, "
        f"redis {'yes' if args.redis else 'no'}"
    )
    print(
        f"{'round':<6} {'app':<6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'200s':>8} {'errors':>7} {'cpu us/req':>11}"
    )
    for number in range(len(reals)):
        for name, results in rounds.items():
            r = results[number]
            print(
                f"{number + 1:<6} {name:<6} {r.requests_per_s:>9.1f} {r.p50_ms:>8.1f} "
                f"{r.p99_ms:>8.1f} {r.figures['max_us'] / 1000:>8.1f} {r.figures['ok']:>8} "
                f"{r.errors:>7} {r.cpu_us:>11.0f}"
            )
    rate = {name: median(r.requests_per_s for r in results) for name, results in rounds.items()}
    real_p99 = median(r.p99_ms for r in reals)
    print(
        f"median  floor {rate['floor']:.1f} req/s, bare {rate['bare']:.1f} req/s, "
        f"real {rate['real']:.1f} req/s "
        f"(p50 {median(r.p50_ms for r in reals):.1f} ms, p99 {real_p99:.1f} ms)"
    )
    ratio = rate["real"] / rate["floor"] if rate["floor"] else 0.0
    print(
        f"ratio real/floor (medians): {ratio:.2f} (target >= {TARGET_RATIO}: "
        f"{met(ratio >= TARGET_RATIO)}); per round: {per_round(floors, reals)}"
    )
    bare_ratio = rate["real"] / rate["bare"] if rate["bare"] else 0.0
    print(
        f"ratio real/bare (medians): {bare_ratio:.2f}, legalbot's own work against a webhook "
        f"without Flask; per round: {per_round(bares, reals)}"
    )
    if args.concurrency == TARGET_CONCURRENCY:
        verdict = met(real_p99 < TARGET_P99_MS)
    else:
        verdict = f"target is stated at {TARGET_CONCURRENCY} senders"
    print(f"real p99 (median): {real_p99:.1f} ms (target < {TARGET_P99_MS:g} ms: {verdict})")
    cpu = {name: median(r.cpu_us for r in results) for name, results in rounds.items()}
    if all(cpu.values()):
        print(
            f"server CPU per request (medians): floor {cpu['floor']:.0f} us, "
            f"bare {cpu['bare']:.0f} us, real {cpu['real']:.0f} us"
        )
    late = sum(r.figures["ok"] - r.figures["replied"] for r in reals)
    if late:
        print(f"real: {late} answers missed the budget (replied `success`, sent late)")


def per_round(floors: list[Result], reals: list[Result]) -> str:
    return ", ".join(
        f"{r.requests_per_s / f.requests_per_s:.2f}" for f, r in zip(floors, reals, strict=True)
    )


def check_records(received: int, real: Result) -> bool:
    """Every 200 is one recorded message; requests wrk abandoned at the end may add a few."""
    ok = real.figures["ok"]
    unanswered = real.figures["sent"] - real.figures["requests"]
    print(
        f"records: messages_received {received}, wrk 200 responses {ok} "
        f"(requests wrk sent but stopped waiting for: {unanswered})"
    )
    if received == ok:
        print("records: match")
        return True
    if ok < received <= ok + unanswered:
        print(f"records: {received - ok} more, all from requests wrk abandoned at the end: ok")
        return True
    print("records: MISMATCH")
    return False


def met(flag: bool) -> str:
    return "met" if flag else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
