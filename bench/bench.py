#!/usr/bin/env python3
"""ssews' benchmark harness: builds what it needs, runs every scenario against ssews and its
peers, prints a table of ratios (ssews ÷ peer) and writes JSON, a Markdown table and a chart under
bench/results/. Method and how to read the table: bench/README.md. Entry point: bench/run.

Only the standard library here (it runs on the system's python3); the chart is drawn by
bench/chart.py in bench/.venv, where matplotlib is installed.
"""
import argparse
import atexit
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = BENCH / "build"
LOGS = BUILD / "logs"
RESULTS = BENCH / "results"
VENV = BENCH / ".venv"
SSEWS_BUILD = ROOT / "build-bench"
SSEWS = SSEWS_BUILD / "tools" / "ssews"
LOADGEN = BUILD / "loadgen"
SRC = "127.0.0.2-127.0.0.9"  # client source addresses: spreads ephemeral ports over 8 addresses
CLK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, LOADGEN_CPU = "0", "1"

# Sizes. --quick keeps every scenario but shrinks it so the whole run stays under 3 minutes.
SIZES = {
    "quick": dict(reps=1, idle=500, echo_conns=100, echo_warmup="0.3s", echo_dur="1s",
                  fan_subs=500, fan_rate=10, fan_dur="2s", fan_warm="0.5s", sse_sat_rates="80,1000,4000",
                  sat_channels=10, sat_subs=20, sat_rates="500,2000,5000", sat_step="1s",
                  ramp=1000, bind_subs=500, bind_count=200, cg_subs=30, cg_rates=(5, 20), cg_step="1s",
                  grace="2s", clu_sat_rates="500,2000,5000", defl_subs=500, defl_rate=10, defl_dur="2s", defl_warm="0.5s", defl_grace="10s"),
    "full": dict(reps=3, idle=10000, echo_conns=1000, echo_warmup="1s", echo_dur="5s",
                 fan_subs=10000, fan_rate=10, fan_dur="10s", fan_warm="2s", sse_sat_rates="10,20,50,100,200,500,1000",
                 sat_channels=100, sat_subs=100, sat_rates="10,20,50,100,200,500,1000,2000,5000,10000",
                 sat_step="5s", ramp=10000, bind_subs=10000, bind_count=1000, cg_subs=100,
                 cg_rates=(10, 60), cg_step="2s", grace="5s",
                 # scenario 8's saturation steps: scenario 5's, with steps between, for the ratio of clusters
                 clu_sat_rates="10,20,50,100,200,300,500,700,1000,1500,2000,3000,5000,7000,10000",
                 defl_subs=10000, defl_rate=2, defl_dur="10s", defl_warm="2s", defl_grace="60s"),
}

# ------------------------------------------------------------------------------------------------
# Processes: every one the harness starts gets its own process group, and is stopped by it.

LIVE = []


def start(cmd, log, env=None, cpu=None, stdin=subprocess.DEVNULL, stdout=None, cwd=None):
    if cpu is not None and HAVE_TASKSET:
        cmd = ["taskset", "-c", cpu] + list(cmd)
    e = dict(os.environ)
    e.update(env or {})
    lf = open(log, "ab")
    p = subprocess.Popen([str(c) for c in cmd], stdin=stdin, stdout=stdout if stdout is not None else lf,
                         stderr=lf, env=e, cwd=cwd, start_new_session=True)
    p._log = lf
    LIVE.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    if p is None:
        return
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        except ProcessLookupError:
            pass
    else:  # the leader exited; children of its group (nginx workers) may not have
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        p._log.close()
    except Exception:
        pass
    if p in LIVE:
        LIVE.remove(p)


def stop_all():
    for p in list(LIVE):
        stop(p, timeout=5)


def on_signal(sig, frame):
    stop_all()
    print(f"\nbench: interrupted by signal {sig}; every process it started is stopped", flush=True)
    os._exit(130)


def group_pids(pgid):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rfind(")") + 2:].split()
        if int(fields[2]) == pgid:
            pids.append(int(d))
    return pids


def group_cpu_s(pgid):
    t = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
            fields = s[s.rfind(")") + 2:].split()
            t += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return t / CLK


def group_rss_kb(pgid):
    t = 0
    for pid in group_pids(pgid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        t += int(line.split()[1])
        except OSError:
            pass
    return t


def slab_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=20):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            return f"exited with status {proc.returncode} before listening"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return None
        except OSError:
            time.sleep(0.05)
    return f"not listening on port {port} after {timeout} s"


def sh(cmd, log, cwd=None, env=None, timeout=1800):
    """Runs a set-up command, its output to log; returns None or a one-line reason."""
    e = dict(os.environ)
    e.update(env or {})
    with open(log, "ab") as lf:
        lf.write(f"\n$ {' '.join(map(str, cmd))}\n".encode())
        lf.flush()
        try:
            r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=e, stdout=lf, stderr=lf, timeout=timeout)
        except FileNotFoundError as ex:
            return f"{cmd[0]} not found ({ex.filename})"
        except subprocess.TimeoutExpired:
            return f"{Path(str(cmd[0])).name} timed out"
    if r.returncode != 0:
        return f"{Path(str(cmd[0])).name} failed (exit {r.returncode}), see {log.relative_to(ROOT)}"
    return None


def out(cmd, default=""):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip()
    except Exception:
        return default


HAVE_TASKSET = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2

# ------------------------------------------------------------------------------------------------
# Preparation: what each peer needs, installed from the package registries; failures skip it.


class Prep:
    def __init__(self):
        self.skip = {}  # peer -> reason
        self.versions = {}
        self.apt_updated = False
        self.log = LOGS / "setup.log"

    def apt(self, pkgs):
        missing = [p for p in pkgs if "install ok installed" not in out(
            ["dpkg-query", "-W", "-f=${Status}", p])]
        if not missing:
            return None
        if os.geteuid() != 0:
            return f"needs {' '.join(missing)} (apt-get, as root)"
        if not shutil.which("apt-get"):
            return f"needs {' '.join(missing)} and there is no apt-get"
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        if not self.apt_updated:
            self.apt_updated = True
            sh(["apt-get", "update", "-qq"], self.log, env=env)
        print(f"bench: installing {' '.join(missing)} (apt-get)", flush=True)
        return sh(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, self.log, env=env)

    def run(self, want_nchan=True, want_bindings=True, want_centrifugo=True):
        BUILD.mkdir(parents=True, exist_ok=True)
        LOGS.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        print("bench: building and installing what the benchmark needs (log: bench/build/logs/setup.log)", flush=True)
        # ssews itself, and the load generator: without them there is no benchmark.
        why = self.apt(["build-essential", "cmake", "ninja-build", "pkg-config", "libwebsockets-dev", "libssl-dev",
                        "libhiredis-dev", "redis-server"])
        why = why or sh(["bash", ROOT / "scripts" / "build.sh", SSEWS_BUILD, "-DCMAKE_BUILD_TYPE=Release",
                         "-DSSEWS_BUILD_TESTS=OFF"], self.log)
        if why or not SSEWS.exists():
            sys.exit(f"bench: cannot build ssews: {why}")
        if not shutil.which("go"):
            sys.exit("bench: the load generator needs Go (go not found)")
        why = sh(["go", "build", "-o", LOADGEN, "."], self.log, cwd=BENCH / "loadgen")
        if why:
            sys.exit(f"bench: cannot build the load generator: {why}")
        # The raw libwebsockets floor.
        why = sh(["sh", "-c", f"cc -O2 -o '{BUILD}/lws_floor' '{BENCH}/peers/lws_floor.c' "
                  "$(pkg-config --cflags --libs libwebsockets)"], self.log)
        if why:
            self.skip["floor"] = why
        # The kernel floor: epoll and send(), no WebSocket library at all.
        why = sh(["cc", "-O2", "-o", BUILD / "epoll_floor", BENCH / "peers" / "epoll_floor.c", "-lcrypto"], self.log)
        if why:
            self.skip["epoll"] = why
        # The thread CPU clock bind_node.js reads (Node 20 has none of its own).
        why = sh(["sh", "-c", f"cc -O2 -shared -fPIC -I/usr/include/node -o '{BUILD}/thread_cpu.node' "
                  f"'{BENCH}/peers/thread_cpu.c'"], self.log)
        self.no_cpu_clock = why  # scenario 7 (Node) is skipped without it
        # Go peers.
        for name in ("gorilla", "gws"):
            why = sh(["go", "build", "-o", BUILD / f"go_{name}", "."], self.log, cwd=BENCH / "peers" / f"go_{name}")
            if why:
                self.skip[name] = why
        # Node peers (ws; socket.io with its Redis adapter) from the npm registry.
        if not shutil.which("node") or not shutil.which("npm"):
            self.skip["ws"] = self.skip["sio"] = "node/npm not found"
        elif not node_peers_installed():
            why = sh(["npm", "ci", "--no-audit", "--no-fund"], self.log, cwd=BENCH / "peers")
            if why:
                self.skip["ws"] = self.skip["sio"] = why
        # Scenario 8's cluster peers share their channels through a redis-server.
        if not shutil.which("redis-server"):
            self.skip.setdefault("sio", "no redis-server")
            self.skip["centrifugo"] = "no redis-server"
        elif want_centrifugo:
            why = build_centrifugo(self.log)
            if why:
                self.skip["centrifugo"] = why
        # Python venv: websockets (peer) and matplotlib (chart) from PyPI.
        req = (BENCH / "requirements.txt").read_text()
        stamp = VENV / ".requirements"
        if not (VENV / "bin" / "python").exists() or not stamp.exists() or stamp.read_text() != req:
            why = sh([sys.executable, "-m", "venv", VENV], self.log)
            why = why or sh([VENV / "bin" / "pip", "install", "-q", "--disable-pip-version-check", "-r",
                             BENCH / "requirements.txt"], self.log)
            if why:
                self.skip["pyws"] = why
            else:
                stamp.write_text(req)
        # nginx + nchan from Debian.
        if want_nchan:
            why = self.apt(["nginx", "libnginx-mod-nchan"])
            if why:
                self.skip["nchan"] = why
            elif not NCHAN_MODULE.exists():
                self.skip["nchan"] = f"{NCHAN_MODULE} not found"
        if not shutil.which("valgrind"):
            self.apt(["valgrind"])
        # The bindings scenario 7 drives: built the way users build them, when
        # no build is there yet (scripts/test-python.sh and test-node.sh make them too).
        if want_bindings:
            if binding_probe("py")[0] is None and (VENV / "bin" / "pip").exists():
                print("bench: building the Python binding (pip install .)", flush=True)
                sh([VENV / "bin" / "pip", "install", "-q", "--disable-pip-version-check", ROOT], self.log)
            if binding_probe("node")[0] is None and shutil.which("npm"):
                print("bench: building the Node binding (npm ci)", flush=True)
                sh(["npm", "ci", "--no-audit", "--no-fund"], self.log, cwd=ROOT)
        self.versions = versions()
        print(f"bench: ready in {time.time() - t0:.0f} s" +
              "".join(f"; {k} skipped: {v}" for k, v in self.skip.items()), flush=True)


NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")
# Centrifugo, built from the Go module proxy at this version (scenario 8's second cluster peer).
CENTRIFUGO_MOD, CENTRIFUGO_VERSION = "github.com/centrifugal/centrifugo/v6", "v6.9.1"
CENTRIFUGO = BUILD / "centrifugo"


def node_peers_installed():
    """Whether bench/peers/node_modules holds every package of peers/package.json at its pinned version."""
    deps = json.loads((BENCH / "peers" / "package.json").read_text())["dependencies"]
    for name, version in deps.items():
        try:
            if json.loads((BENCH / "peers" / "node_modules" / name / "package.json").read_text())["version"] != version:
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def build_centrifugo(log):
    """Builds Centrifugo into bench/build unless that version is there: `go install MOD@VERSION`, so the
    module's own go.mod and the checksum database pin every dependency (about 3 minutes on a new
    machine, seconds with Go's caches warm). Returns None or why it could not."""
    if CENTRIFUGO_VERSION.lstrip("v") in out([str(CENTRIFUGO), "version"]):
        return None
    print(f"bench: building Centrifugo {CENTRIFUGO_VERSION} (go install, from the Go module proxy)", flush=True)
    return sh(["go", "install", "-ldflags", f"-X {CENTRIFUGO_MOD}/internal/build.Version={CENTRIFUGO_VERSION.lstrip('v')}",
               f"{CENTRIFUGO_MOD}@{CENTRIFUGO_VERSION}"], log, env={"GOBIN": str(BUILD), "GOFLAGS": "-buildvcs=false"},
              timeout=1200)


def versions():
    v = {}
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) // 1024 // 1024
    v["machine"] = f"{platform.system()} {platform.release()} {platform.machine()}, {cpu or 'unknown CPU'}, " \
                   f"{os.cpu_count()} cores, {mem} GiB"
    v["libwebsockets"] = out(["dpkg-query", "-W", "-f=${Version}", "libwebsockets-dev"]) or \
        out(["pkg-config", "--modversion", "libwebsockets"])
    head = out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    v["ssews"] = head + (" (uncommitted changes)" if dirty else "")
    v["go"] = out(["go", "env", "GOVERSION"])
    v["node"] = out(["node", "--version"])
    v["python"] = platform.python_version()
    for key, pkg in (("ws", "ws"), ("socket.io", "socket.io"), ("redis-adapter", "@socket.io/redis-adapter"),
                     ("node-redis", "redis")):
        try:
            v[key] = json.loads((BENCH / "peers" / "node_modules" / pkg / "package.json").read_text())["version"]
        except Exception:
            v[key] = "?"
    v["redis"] = (re.search(r"v=(\S+)", out(["redis-server", "--version"])) or [None, "?"])[1]
    cv = re.search(r"Centrifugo v(\S+)", out([str(CENTRIFUGO), "version"]))
    v["centrifugo"] = f"v{cv.group(1)}" if cv else "?"
    for name, mod in (("gorilla", "github.com/gorilla/websocket"), ("gws", "github.com/lxzan/gws")):
        m = re.search(re.escape(mod) + r"\s+(v\S+)", (BENCH / "peers" / f"go_{name}" / "go.mod").read_text())
        v[name] = m.group(1) if m else "?"
    v["websockets"] = out([str(VENV / "bin" / "python"), "-c", "import websockets; print(websockets.__version__)"], "?")
    ng = out(["nginx", "-v"])
    v["nginx"] = ng.split("/")[-1] if "/" in ng else "?"
    v["nchan"] = out(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-nchan"]) or "?"
    v["loadgen"] = "gorilla/websocket " + (re.search(r"gorilla/websocket\s+(v\S+)", (BENCH / "loadgen" / "go.mod")
                                                     .read_text()) or [None, "?"])[1]
    return v


# ------------------------------------------------------------------------------------------------
# Peers: each serves "echo" (every WebSocket message back to its sender) or "hub" (chat-room
# broadcast to the sender's channel, ?channel=NAME; SSE subscribers where it has SSE).

PEERS = {
    # key: (label, modes it serves, column label for SSE)
    "ssews": ("ssews", {"echo", "ws", "sse", "deflate"}),
    "ws": ("Node ws", {"echo", "ws", "sse", "deflate"}),
    "gorilla": ("gorilla", {"echo", "ws"}),
    "gws": ("gws", {"echo", "ws"}),
    "pyws": ("websockets", {"echo", "ws"}),
    "nchan": ("nchan", {"ws", "sse"}),
    "floor": ("lws floor", {"echo", "ws", "sse"}),
    "epoll": ("epoll floor", {"echo", "ws"}),
    # ssews a second time, compression off, for scenario 8's "with ÷ without" (hub mode "deflate":
    # ssews runs with compression=on, ws with perMessageDeflate, this one as in every other scenario)
    "ssews_plain": ("ssews no compression", {"deflate"}),
    # Scenario 8 only: two nodes of a peer that shares channels through Redis, as ssews' cluster does.
    "sio": ("Socket.IO cluster", {"cluster"}),
    "centrifugo": ("Centrifugo cluster", {"cluster"}),
}
PEER_ORDER = ["ssews", "ws", "gorilla", "gws", "pyws", "nchan", "floor", "epoll", "ssews_plain", "sio", "centrifugo"]
CLUSTER_PEERS = ("sio", "centrifugo")


def nchan_conf(port, d, single_process=False):
    d.mkdir(parents=True, exist_ok=True)
    conf = d / "nginx.conf"
    conf.write_text(f"""# generated by bench/bench.py
load_module {NCHAN_MODULE};
daemon off;
master_process {'off' if single_process else 'on'};
worker_processes 1;
worker_rlimit_nofile 20000;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 19500; multi_accept on; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  nchan_max_reserved_memory 512M;
  server {{
    listen 127.0.0.1:{port};
    location = / {{
      nchan_pubsub;                            # WebSocket pub+sub, EventSource subscribers
      nchan_channel_id $arg_channel;
      nchan_subscriber_first_message newest;
      nchan_message_buffer_length 16;
      nchan_message_timeout 60s;
    }}
  }}
}}
""")
    return conf


def server_cmd(peer, mode, port, rundir):
    """The command line and environment of one peer's server; mode is 'echo', 'hub' or 'deflate'
    (a hub with permessage-deflate on, for the servers that have it)."""
    echo, deflate = mode == "echo", mode == "deflate"
    if peer in ("ssews", "ssews_plain"):
        # The load comes from a few loopback addresses: no per-address limits (issue 16).
        return [SSEWS, "serve", "--host", "127.0.0.1", "--port", port, "--option", "max_connections=19500",
                "--max-connections-per-ip", "0", "--handshake-rate-per-ip", "0"] + \
            (["--echo"] if echo else []) + \
            (["--option", "compression=on"] if deflate and peer == "ssews" else []), {}
    if peer == "floor":
        return [BUILD / "lws_floor", "--port", port] + (["--echo"] if echo else []), {}
    if peer == "epoll":
        return [BUILD / "epoll_floor", "--port", port] + (["--echo"] if echo else []), {}
    if peer == "ws":
        return ["node", BENCH / "peers" / "ws_server.js", "--port", port] + (["--echo"] if echo else []) + \
            (["--deflate"] if deflate else []), {}
    if peer in ("gorilla", "gws"):
        return [BUILD / f"go_{peer}", "-port", port] + (["-echo"] if echo else []), {"GOMAXPROCS": "1"}
    if peer == "pyws":
        return [VENV / "bin" / "python", BENCH / "peers" / "py_ws.py", "--port", port] + \
            (["--echo"] if echo else []), {}
    if peer == "nchan":
        conf = nchan_conf(port, rundir)
        return ["nginx", "-p", rundir, "-c", conf, "-e", rundir / "error.log"], {}
    raise ValueError(peer)


# ------------------------------------------------------------------------------------------------
# Running one scenario against one peer.


class Run:
    """One server started fresh for one measurement, stopped afterwards."""

    def __init__(self, h, scen, peer, mode, rep):
        self.h, self.peer, self.mode = h, peer, mode
        self.name = f"{scen}-{peer}-r{rep}"
        self.port = free_port()
        self.rundir = BUILD / "run" / self.name
        self.server = None

    def __enter__(self):
        mode = self.mode
        cmd, env = server_cmd(self.peer, mode, self.port, self.rundir)
        self.server = start(cmd, LOGS / f"{self.name}.server.log", env=env, cpu=SERVER_CPU)
        why = wait_port(self.port, self.server)
        if why:
            raise RuntimeError(f"server {why}")
        time.sleep(0.05)
        return self

    def __exit__(self, *a):
        alive = self.server.poll() is None
        stop(self.server)
        if not alive and a[0] is None:
            raise RuntimeError(f"server died during the run (status {self.server.returncode}), "
                               f"see bench/build/logs/{self.name}.server.log")

    def cpu(self):
        return group_cpu_s(self.server.pid)

    def rss_kb(self):
        return group_rss_kb(self.server.pid)

    def base(self):
        return f"http://127.0.0.1:{self.port}/"

    def loadgen(self, args, timeout=600, stdin=subprocess.DEVNULL):
        """Runs the load generator to its end; returns (result dict, [(mark, t, server cpu s)])."""
        log = LOGS / f"{self.name}.loadgen.log"
        size0 = log.stat().st_size if log.exists() else 0
        p = start([LOADGEN] + [str(a) for a in args] + ["-src", SRC], log, env={"GOMAXPROCS": "1"},
                  cpu=LOADGEN_CPU, stdout=subprocess.PIPE)
        marks = []
        # Marks arrive on stderr, which goes to the log: follow the log file.
        stop_follow = threading.Event()

        def follow():
            with open(log, "rb") as f:
                f.seek(size0)
                buf = b""
                while True:
                    chunk = f.read()
                    if chunk:
                        buf += chunk
                        while b"\n" in buf:
                            line, buf = buf.split(b"\n", 1)
                            if line.startswith(b"MARK "):
                                marks.append((line[5:].decode(), time.time(), self.cpu()))
                    elif stop_follow.is_set():
                        return
                    else:
                        time.sleep(0.002)

        th = threading.Thread(target=follow, daemon=True)
        th.start()
        try:
            o, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(p)
            stop_follow.set()
            raise RuntimeError(f"load generator timed out after {timeout} s")
        stop_follow.set()
        th.join(2)
        stop(p)
        lines = [l for l in o.decode(errors="replace").splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"load generator printed no result (exit {p.returncode}), "
                               f"see bench/build/logs/{self.name}.loadgen.log")
        r = json.loads(lines[-1])
        if "error" in r:
            raise RuntimeError(r["error"])
        return r, marks


def cpu_between(marks, i):
    """Server CPU seconds and wall seconds between the i-th start mark and its end mark."""
    starts = [m for m in marks if m[0] == "start"]
    ends = [m for m in marks if m[0] == "end"]
    if i >= len(starts) or i >= len(ends):
        return None, None
    return ends[i][2] - starts[i][2], ends[i][1] - starts[i][1]


def sc_idle(h, run, proto):
    n = h.size["idle"]
    time.sleep(0.3)
    rss0, slab0 = run.rss_kb(), slab_kb()
    log = LOGS / f"{run.name}.loadgen.log"
    p = start([LOADGEN, "idle", "-base", run.base(), "-proto", proto, "-conns", n, "-settle", "0.5s", "-src", SRC],
              log, env={"GOMAXPROCS": "1"}, cpu=LOADGEN_CPU, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = b""
        t0 = time.time()
        while not line.startswith(b"READY") and time.time() - t0 < 300:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                break
        if not line.startswith(b"READY"):
            raise RuntimeError(f"idle load generator ended early, see bench/build/logs/{run.name}.loadgen.log")
        r = json.loads(line[6:])
        rss1, slab1 = run.rss_kb(), slab_kb()
    finally:
        try:
            p.stdin.close()
        except Exception:
            pass
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            pass
        stop(p)
    if r["open"] < n:
        raise RuntimeError(f"only {r['open']} of {n} connections open ({r['errors']} failed: {r['first_error']})")
    return {"rss_per_conn_bytes": (rss1 - rss0) * 1024 / r["open"], "rss_kb_before": rss0, "rss_kb_after": rss1,
            "slab_per_conn_bytes_both_ends": (slab1 - slab0) * 1024 / r["open"], "open": r["open"],
            "connect_s": r["connect_s"]}


def sc_echo(h, run, inflight):
    s = h.size
    r, marks = run.loadgen(["echo", "-url", f"ws://127.0.0.1:{run.port}/", "-conns", s["echo_conns"],
                            "-inflight", inflight, "-size", 64, "-warmup", s["echo_warmup"],
                            "-duration", s["echo_dur"]])
    if r["conn_failures"]:
        raise RuntimeError(f"{r['conn_failures']} connections failed: {r['first_failure']}")
    cpu, _ = cpu_between(marks, 0)
    m = {"msgs_per_s": r["msgs_per_s"], "loadgen_cpu": r["loadgen_cpu"]}
    if cpu is not None and r["messages"]:
        m["server_cpu_us_per_msg"] = cpu * 1e6 / r["messages"]
    if r["bad_size"]:
        m["bad_size"] = r["bad_size"]
    return m


def fanout_metrics(r, marks, best_only=False):
    steps = r["steps"]
    m = {"closed_early": r["closed_early"]}
    for i, st in enumerate(steps):
        cpu, _ = cpu_between(marks, i)
        if cpu is not None and st["delivered"]:
            st["server_cpu_us_per_delivery"] = cpu * 1e6 / (st["delivered"] + st["sent"])
    if r["closed_early"]:
        m["first_read_error"] = r["first_read_error"]
    return m, steps


def sc_fanout(h, run, proto):
    s = h.size
    dur = float(s["fan_dur"].rstrip("s"))
    r, marks = run.loadgen(["fanout", "-base", run.base(), "-proto", proto, "-channels", 1, "-subs", s["fan_subs"],
                            "-rates", s["fan_rate"], "-step", s["fan_dur"], "-size", 100, "-grace", s["grace"],
                            "-warmup", s["fan_warm"]],
                           timeout=300 + dur)
    m, steps = fanout_metrics(r, marks)
    st = steps[0]
    m.update({k: st[k] for k in ("p50_ms", "p99_ms", "max_ms", "mean_ms", "deliveries_per_s", "lost", "sent")})
    m.update({k: st.get(k) for k in ("first_p50_ms", "first_p99_ms")})  # time to the first subscriber
    if "server_cpu_us_per_delivery" in st:
        m["server_cpu_us_per_delivery"] = st["server_cpu_us_per_delivery"]
    m["loadgen_cpu"] = st["loadgen_cpu"]
    if st["lost"]:
        m["note"] = f"{st['lost']} deliveries missing {h.size['grace']} after the last publish " \
                    "(latencies of those messages are lower bounds)"
    if r["closed_early"]:
        raise RuntimeError(f"{r['closed_early']} subscribers cut off: {r['first_read_error']}")
    return m


def sc_deflate(h, run):
    """Scenario 8: WebSocket fan-out of ~2 KB JSON documents (a different one each message) to
    subscribers that negotiated permessage-deflate (the offer gorilla's Dialer makes) and inflate
    every message; the publisher sends uncompressed."""
    s = h.size
    dur = float(s["defl_dur"].rstrip("s")) + float(s["defl_grace"].rstrip("s"))
    r, marks = run.loadgen(["fanout", "-base", run.base(), "-proto", "ws", "-channels", 1, "-subs", s["defl_subs"],
                            "-rates", s["defl_rate"], "-step", s["defl_dur"], "-size", 2048, "-payload", "json",
                            "-grace", s["defl_grace"], "-warmup", s["defl_warm"]] +
                           (["-deflate"] if run.peer != "ssews_plain" else []), timeout=300 + 2 * dur)
    if r["closed_early"]:
        raise RuntimeError(f"{r['closed_early']} subscribers cut off: {r['first_read_error']}")
    m, steps = fanout_metrics(r, marks)
    m["server_rss_mb"] = run.rss_kb() / 1024  # per-connection deflate state shows here
    st = steps[0]
    m.update({k: st[k] for k in ("p50_ms", "p99_ms", "max_ms", "lost", "sent", "delivered", "loadgen_cpu")})
    if "server_cpu_us_per_delivery" in st:
        m["server_cpu_us_per_delivery"] = st["server_cpu_us_per_delivery"]
    if st["delivered"]:
        m["wire_bytes_per_delivery"] = st["wire_bytes"] / st["delivered"]
        m["payload_bytes_per_delivery"] = st["payload_bytes"] / st["delivered"]
    if r["unparsed"]:
        m["note"] = f"{r['unparsed']} messages not understood"
    if st["lost"]:
        m["note"] = f"{st['lost']} deliveries missing {s['defl_grace']} after the last publish " \
                    "(latencies of those messages are lower bounds)"
    return m


def sc_saturation(h, run, proto, channels, subs, rates, step):
    r, marks = run.loadgen(["fanout", "-base", run.base(), "-proto", proto, "-channels", channels, "-subs", subs,
                            "-rates", rates, "-step", step, "-size", 100, "-grace", "1s", "-max-p99", "250ms",
                            "-stop-on-fail"], timeout=900)
    m, steps = fanout_metrics(r, marks)
    m["best_deliveries_per_s"] = r["best_sustained_deliveries_per_s"]
    best = [st for st in steps if st["pass"] and st["deliveries_per_s"] == r["best_sustained_deliveries_per_s"]]
    if best:
        m["p99_ms_at_best"] = best[0]["p99_ms"]
    for st in steps:  # CPU cost at each rate, so servers compare at the same rate (report())
        if "server_cpu_us_per_delivery" in st:
            m[f"cpu_us_per_delivery@{st['rate']:g}"] = st["server_cpu_us_per_delivery"]
    m["steps"] = [{k: st.get(k) for k in ("rate", "achieved_rate", "deliveries_per_s", "p50_ms", "p99_ms", "max_ms",
                                          "lost", "pass", "loadgen_cpu", "server_cpu_us_per_delivery")}
                  for st in steps]
    if all(st["pass"] for st in steps):
        m["note"] = "never saturated: raise the top rate"
    return m


def sc_ramp(h, run):
    r, _ = run.loadgen(["ramp", "-url", f"ws://127.0.0.1:{run.port}/?channel=ramp", "-conns", h.size["ramp"],
                        "-concurrency", 100])
    if r["errors"]:
        raise RuntimeError(f"{r['errors']} of {r['conns']} handshakes failed: {r['first_error']}")
    return {k: r[k] for k in ("handshakes_per_s", "p50_ms", "p99_ms", "max_ms", "loadgen_cpu")}


# Scenario table: key -> (title, peer capability needed, server mode, function, primary metric,
# "higher"/"lower" is better, targets {peer: (op, ratio)})
SCENARIOS = [
    ("s1_idle_ws", "1. idle WebSocket: RSS/conn", "ws", "hub", lambda h, r: sc_idle(h, r, "ws"),
     "rss_per_conn_bytes", "lower", {"ws": 0.25, "gorilla": 0.5}),
    ("s1_idle_sse", "1. idle SSE: RSS/conn", "sse", "hub", lambda h, r: sc_idle(h, r, "sse"),
     "rss_per_conn_bytes", "lower", {}),
    ("s2_echo_1", "2. echo 64 B, 1 in flight: msg/s", "echo", "echo", lambda h, r: sc_echo(h, r, 1),
     "msgs_per_s", "higher", {"ws": 1.5, "gorilla": 1.0, "floor": 0.9}),
    ("s2_echo_8", "2. echo 64 B, 8 in flight: msg/s", "echo", "echo", lambda h, r: sc_echo(h, r, 8),
     "msgs_per_s", "higher", {"ws": 1.5, "gorilla": 1.0, "floor": 0.9}),
    ("s3_fanout_ws", "3. WS fan-out: p99 to last sub", "ws", "hub", lambda h, r: sc_fanout(h, r, "ws"),
     "p99_ms", "lower", {"epoll": 1.1, "nchan": 1.0}),
    ("s4_fanout_sse", "4. SSE fan-out: p99 to last sub", "sse", "hub", lambda h, r: sc_fanout(h, r, "sse"),
     "p99_ms", "lower", {}),
    ("s4_sse_sat", "4. SSE fan-out: max deliveries/s", "sse", "hub",
     lambda h, r: sc_saturation(h, r, "sse", 1, h.size["fan_subs"], h.size["sse_sat_rates"], h.size["sat_step"]),
     "best_deliveries_per_s", "higher", {"nchan": 1.0, "ws": 2.0}),
    ("s5_saturation", "5. saturation C×S WS: deliveries/s", "ws", "hub",
     lambda h, r: sc_saturation(h, r, "ws", h.size["sat_channels"], h.size["sat_subs"], h.size["sat_rates"],
                                h.size["sat_step"]),
     "best_deliveries_per_s", "higher", {"ws": 2.0, "floor": 0.6}),
    ("s6_ramp", "6. connection ramp: handshakes/s", "ws", "hub", sc_ramp, "handshakes_per_s", "higher", {"ws": 1.5}),
    # Issue 19: ssews with compression=on against itself without (1.3× allowed for compressing
    # once per broadcast) and against ws compressing per connection.
    ("s9_deflate", "9. deflate fan-out 2 KB JSON: server CPU µs/delivery", "deflate", "deflate", sc_deflate,
     "server_cpu_us_per_delivery", "lower", {"ssews_plain": 1.3, "ws": 0.5}),
]

# Secondary rows from the same runs (no targets): time to the first subscriber, server CPU-µs per delivered message.
SECONDARY = [
    ("s3_fanout_ws", "first_p99_ms", "3. WS fan-out: p99 to first sub", "lower"),
    ("s4_fanout_sse", "first_p99_ms", "4. SSE fan-out: p99 to first sub", "lower"),
    ("s2_echo_8", "server_cpu_us_per_msg", "2. echo 8: server CPU µs/msg", "lower"),
    ("s3_fanout_ws", "server_cpu_us_per_delivery", "3. WS fan-out: server CPU µs/delivery", "lower"),
    ("s4_fanout_sse", "server_cpu_us_per_delivery", "4. SSE fan-out: server CPU µs/delivery", "lower"),
    ("s4_sse_sat", "cpu_us_per_delivery@", "4. SSE saturation: server CPU µs/delivery*", "lower"),
    ("s5_saturation", "cpu_us_per_delivery@", "5. saturation: server CPU µs/delivery*", "lower"),
    ("s9_deflate", "p99_ms", "9. deflate fan-out: p99 to last sub", "lower"),
    ("s9_deflate", "wire_bytes_per_delivery", "9. deflate fan-out: bytes on the wire/delivery", "lower"),
]
# *: at the highest publish rate both servers ran (metric names ending in "@").
# Further rows of the medians table (each server's own value).
RAW_EXTRA = [
    ("s8_cluster", "p99_ms", "8. cluster (2 nodes + Redis) WS fan-out: p99 to last sub"),
    ("s8_cluster", "deliveries_per_s", "8. cluster: deliveries/s at the fan-out rate"),
    ("s8_cluster", "best_deliveries_per_s", "8. cluster: highest sustained deliveries/s (C×S WS)"),
    ("s8_cluster", "server_cpu_us_per_delivery", "8. cluster: server CPU µs/delivery (nodes + Redis)"),
    ("s9_deflate", "p99_ms", "9. deflate fan-out: p99 to last sub"),
    ("s9_deflate", "wire_bytes_per_delivery", "9. deflate fan-out: bytes on the wire/delivery"),
    ("s9_deflate", "payload_bytes_per_delivery", "9. deflate fan-out: payload bytes/delivery"),
    ("s9_deflate", "server_rss_mb", "9. deflate fan-out: server RSS at the end, MB"),
]

# ------------------------------------------------------------------------------------------------
# Scenario 8: two ssews nodes sharing a channel through Redis (option broker, docs/scaling.md).


def cluster_node_cmd(peer, port, rport, rundir):
    """One node of scenario 8's cluster of `peer`, sharing channels through the redis-server on rport."""
    redis = f"redis://127.0.0.1:{rport}"
    if peer == "ssews":
        cmd, env = server_cmd("ssews", "hub", port, rundir)
        return cmd + ["--broker", redis], env
    if peer == "sio":
        return ["node", BENCH / "peers" / "sio_server.js", "--port", port, "--redis", redis], {}
    if peer == "centrifugo":
        # Anonymous clients that may subscribe and publish to any channel (client.insecure), the
        # Redis engine (broker and presence), JSON protocol over /connection/websocket.
        conf = rundir / f"centrifugo-{port}.json"
        conf.write_text(json.dumps({
            "http_server": {"address": "127.0.0.1", "port": int(port)},
            "client": {"insecure": True, "allowed_origins": ["*"]},
            "engine": {"type": "redis", "redis": {"address": [redis]}},
            "log": {"level": "warn"}, "usage_stats": {"disabled": True}}, indent=1))
        return [CENTRIFUGO, "--config", conf], {"GOMAXPROCS": "1"}
    raise ValueError(peer)


# Where each cluster peer takes WebSocket clients, and what its messages carry (loadgen -wire).
CLUSTER_PATH = {"ssews": ("", "plain"), "sio": ("socket.io/?EIO=4&transport=websocket", "socketio"),
                "centrifugo": ("connection/websocket", "centrifugo")}


class ClusterRun(Run):
    """A redis-server and two nodes of `peer` sharing channels through it, started fresh, stopped afterwards."""

    def __enter__(self):
        self.rundir.mkdir(parents=True, exist_ok=True)
        rport = free_port()
        self.redis = start(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", self.rundir,
                            "--save", "", "--appendonly", "no"], LOGS / f"{self.name}.redis.log", cpu=SERVER_CPU)
        why = wait_port(rport, self.redis)
        if why:
            raise RuntimeError(f"redis-server {why}")
        self.nodes, self.ports = [], [self.port, free_port()]
        for i, port in enumerate(self.ports):
            cmd, env = cluster_node_cmd(self.peer, port, rport, self.rundir)
            self.nodes.append(start(cmd, LOGS / f"{self.name}.node{i + 1}.log", env=env, cpu=SERVER_CPU))
            why = wait_port(port, self.nodes[-1])
            if why:
                raise RuntimeError(f"node {i + 1} {why}")
        self.server = self.nodes[0]
        return self

    def __exit__(self, *a):
        dead = [i + 1 for i, n in enumerate(self.nodes) if n.poll() is not None]
        for n in self.nodes:
            stop(n)
        stop(self.redis)
        if dead and a[0] is None:
            raise RuntimeError(f"node(s) {dead} died during the run, see bench/build/logs/{self.name}.node*.log")

    def cpu(self):
        return sum(group_cpu_s(p.pid) for p in self.nodes + [self.redis])

    def base(self):
        return f"http://127.0.0.1:{self.port}/{CLUSTER_PATH[self.peer][0]}"

    def bases(self):
        return ",".join(f"http://127.0.0.1:{p}/{CLUSTER_PATH[self.peer][0]}" for p in self.ports)


def cluster_load(h, run, extra):
    """Scenario 8's two loads on one running server or cluster: the fan-out (1 channel, fan_subs
    subscribers) and scenario 5's saturation steps, after the same warm-up as the fan-out (Node's
    first messages to 10k fresh sockets once took Socket.IO's first step past 250 ms on their own).
    Returns metrics without a prefix."""
    s = h.size
    dur = float(s["fan_dur"].rstrip("s"))
    r, marks = run.loadgen(["fanout", "-base", run.base()] + extra +
                           ["-proto", "ws", "-channels", 1, "-subs", s["fan_subs"], "-rates", s["fan_rate"],
                            "-step", s["fan_dur"], "-size", 100, "-grace", s["grace"], "-warmup", s["fan_warm"]],
                           timeout=300 + dur)
    sat, sat_marks = run.loadgen(["fanout", "-base", run.base()] + extra +
                         ["-proto", "ws", "-channels", s["sat_channels"], "-subs", s["sat_subs"],
                          "-rates", s["clu_sat_rates"], "-step", s["sat_step"], "-size", 100, "-grace", "1s",
                          "-warmup", s["fan_warm"], "-max-p99", "250ms", "-stop-on-fail"], timeout=900)
    m, steps = fanout_metrics(r, marks)
    if r["closed_early"]:
        raise RuntimeError(f"{run.name}: {r['closed_early']} subscribers cut off: {r['first_read_error']}")
    st = steps[0]
    out = {k: st[k] for k in ("p50_ms", "p99_ms", "deliveries_per_s", "lost")}
    out["best_deliveries_per_s"] = sat["best_sustained_deliveries_per_s"]
    if "server_cpu_us_per_delivery" in st:
        out["server_cpu_us_per_delivery"] = st["server_cpu_us_per_delivery"]
    fanout_metrics(sat, sat_marks)  # server CPU per delivery at each step (nodes and Redis)
    out["sat_steps"] = [{k: x.get(k) for k in ("rate", "deliveries_per_s", "p50_ms", "p99_ms", "lost", "pass",
                                               "loadgen_cpu", "server_cpu_us_per_delivery")} for x in sat["steps"]]
    notes = []
    if st["lost"]:
        notes.append(f"fan-out: {st['lost']} deliveries missing {s['grace']} after the last publish")
    if sat["steps"] and all(x["pass"] for x in sat["steps"]):
        notes.append("saturation never reached: raise the top rate")
    if notes:
        out["note"] = "; ".join(notes)
    return out


def sc_cluster(h, rep):
    """ssews: WS fan-out, subscribers split over two nodes, publisher on the first, through Redis;
    then the same load on one node without Redis. Time to the last subscriber and deliveries/s of
    both, then the highest sustained deliveries/s of both (scenario 5's steps)."""
    out = {}
    for label, run in rotate([("cluster", ClusterRun(h, "s8_cluster", "ssews", "hub", rep)),
                              ("single", Run(h, "s8_single", "ssews", "hub", rep))], rep):
        with run:
            m = cluster_load(h, run, ["-sub-bases", run.bases()] if label == "cluster" else [])
        pre = "" if label == "cluster" else "single_"
        for k, v in m.items():
            if k != "note" or label == "cluster":
                out[pre + k] = v
    out["p99_vs_single"] = out["p99_ms"] / out["single_p99_ms"] if out["single_p99_ms"] else None
    return out


def sc_cluster_peer(h, rep, peer):
    """A peer's cluster (two Socket.IO or Centrifugo nodes and a redis-server) under the same two loads
    as ssews' cluster, its clients speaking the peer's protocol (loadgen -wire)."""
    run = ClusterRun(h, "s8_cluster", peer, "hub", rep)
    with run:
        return cluster_load(h, run, ["-sub-bases", run.bases(), "-wire", CLUSTER_PATH[peer][1]])


# ------------------------------------------------------------------------------------------------
# Scenario 7: publish loops from the bindings (skipped while a binding is not built).


def binding_probe(lang):
    if lang == "py":
        # The venv scripts/test-python.sh installs the binding into, then ours.
        r = None
        for py in (str(ROOT / "build-python-venv" / "bin" / "python"), str(VENV / "bin" / "python"), sys.executable):
            if not Path(py).exists():  # a venv not made on this checkout
                continue
            r = subprocess.run([py, "-c", "import ssews, sys; sys.stdout.write(ssews.__file__)"],
                               capture_output=True, text=True, cwd=str(BENCH))
            if r.returncode == 0:
                return py, None
        last = ((r.stderr if r else "").strip().splitlines() or ["?"])[-1]
        return None, f"binding not built (import ssews: {last[:80]})"
    r = subprocess.run(["node", "-e", f"require({json.dumps(str(ROOT))})"], capture_output=True, text=True)
    if r.returncode == 0:
        return "node", None
    err = [l for l in r.stderr.splitlines() if re.match(r"^\w*Error\b", l.strip())]
    return None, f"binding not built (require('./'): {(err or ['?'])[0].strip()[:100]})"


def sc_binding(h, lang, impl, rep, interp):
    s = h.size
    name = f"s7_bind_{lang}-{impl}-r{rep}"
    port = free_port()
    if lang == "py":
        cmd = [interp, BENCH / "peers" / "bind_py.py"]
    else:
        cmd = ["node", BENCH / "peers" / "bind_node.js", "--root", ROOT, "--cpu-clock", BUILD / "thread_cpu.node"]
    cmd += ["--impl", impl, "--port", port, "--subs", s["bind_subs"], "--count", s["bind_count"]]
    srv = start(cmd, LOGS / f"{name}.server.log", cpu=SERVER_CPU, stdout=subprocess.PIPE)
    try:
        line = srv.stdout.readline()
        if not line.startswith(b"READY"):
            raise RuntimeError(f"publisher did not start, see bench/build/logs/{name}.server.log")
        port = int(line.split()[1])
        lg = LOGS / f"{name}.loadgen.log"
        p = start([LOADGEN, "subscribe", "-base", f"http://127.0.0.1:{port}/", "-proto", "ws",
                   "-subs", s["bind_subs"], "-count", s["bind_count"], "-channel", "bench", "-timeout", "60s",
                   "-src", SRC], lg, env={"GOMAXPROCS": "1"}, cpu=LOADGEN_CPU, stdout=subprocess.PIPE)
        o, _ = p.communicate(timeout=300)
        stop(p)
        lines = [l for l in o.decode().splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"load generator printed no result, see {lg.relative_to(ROOT)}")
        r = json.loads(lines[-1])
        if "error" in r:
            raise RuntimeError(r["error"])
        res = srv.stdout.readline()
        pub = json.loads(res) if res.startswith(b"{") else {}
    finally:
        stop(srv)
    st = r["stats"]
    m = {"deliveries_per_s": r["deliveries_per_s"], "p99_ms": st["p99_ms"], "max_ms": st["max_ms"],
         "lost": st["lost"], "call_us": pub.get("call_us"), "call_wall_us": pub.get("call_wall_us"),
         "loop_s": pub.get("loop_s")}
    if st["lost"]:
        m["note"] = f"{st['lost']} deliveries lost"
    return m


# ------------------------------------------------------------------------------------------------
# Callgrind: instructions per delivered message on a fixed small fan-out, noise-free.


def callgrind_total(path):
    total = None
    for line in open(path, errors="replace"):
        if line.startswith(("totals:", "summary:")):
            total = int(line.split()[1])
    return total


def sc_callgrind(h, peer):
    """Two fixed workloads that differ only in the number of messages; the difference in
    instructions over the difference in deliveries is the cost of one delivery (start-up,
    connections and timers cancel out)."""
    if not shutil.which("valgrind"):
        raise RuntimeError("valgrind not found")
    subs = h.size["cg_subs"]
    res = []
    for rate in h.size["cg_rates"]:
        port = free_port()
        name = f"cg-{peer}-{rate}"
        outf = BUILD / "run" / f"{name}.callgrind.out"
        outf.parent.mkdir(parents=True, exist_ok=True)
        if outf.exists():
            outf.unlink()
        if peer == "nchan":
            d = BUILD / "run" / name
            cmd = ["nginx", "-p", d, "-c", nchan_conf(port, d, single_process=True), "-e", d / "error.log"]
        else:
            cmd, _ = server_cmd(peer, "hub", port, BUILD / "run" / name)
        srv = start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}"] + cmd,
                    LOGS / f"{name}.server.log", cpu=SERVER_CPU)
        try:
            why = wait_port(port, srv, timeout=60)
            if why:
                raise RuntimeError(f"server under callgrind {why}")
            time.sleep(0.5)
            lg = LOGS / f"{name}.loadgen.log"
            p = start([LOADGEN, "fanout", "-base", f"http://127.0.0.1:{port}/", "-proto", "ws", "-subs", subs,
                       "-rates", rate, "-step", h.size["cg_step"], "-grace", "20s", "-sync-timeout", "120s", "-concurrency", 10,
                       "-src", SRC], lg, env={"GOMAXPROCS": "1"}, cpu=LOADGEN_CPU, stdout=subprocess.PIPE)
            o, _ = p.communicate(timeout=300)
            stop(p)
        finally:
            stop(srv, signal.SIGTERM, timeout=60)
        lines = [l for l in o.decode().splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"load generator printed no result, see {lg.relative_to(ROOT)}")
        r = json.loads(lines[-1])
        if "error" in r:
            raise RuntimeError(r["error"])
        st = r["steps"][0]
        if not outf.exists():
            raise RuntimeError(f"callgrind wrote no output, see bench/build/logs/{name}.server.log")
        # every message (sync and measured) goes to every subscriber and back to its publisher
        deliveries = (r["sync_sent"] + st["sent"]) * (subs + 1)
        res.append((callgrind_total(outf), deliveries, st["lost"]))
    (i0, d0, _), (i1, d1, lost) = res
    if d1 <= d0:
        raise RuntimeError("workloads did not differ")
    return {"instructions_per_delivery": (i1 - i0) / (d1 - d0), "instructions": [i0, i1], "deliveries": [d0, d1],
            "lost": lost}


# ------------------------------------------------------------------------------------------------
# Driver.


class Harness:
    def __init__(self, mode, reps, only, peers):
        self.mode = mode
        self.size = dict(SIZES[mode])
        if reps:
            self.size["reps"] = reps
        self.only = only
        self.peers = peers
        self.runs = []  # every measurement

    def record(self, scen, peer, rep, ok, metrics=None, error=None, seconds=0.0):
        self.runs.append({"scenario": scen, "peer": peer, "rep": rep, "ok": ok, "metrics": metrics or {},
                          "error": error, "seconds": round(seconds, 2)})
        if ok:
            shown = metrics.get(next((s[5] for s in SCENARIOS if s[0] == scen), ""), None)
            extra = f"{shown:,.1f}" if isinstance(shown, (int, float)) else ""
            for k in ("instructions_per_delivery", "deliveries_per_s"):
                if not extra and k in metrics:
                    extra = f"{k} {metrics[k]:,.1f}"
            print(f"  {scen:<15} {peer:<10} ok   {extra}  ({seconds:.1f} s)", flush=True)
        else:
            print(f"  {scen:<15} {peer:<10} FAIL {error}  ({seconds:.1f} s)", flush=True)


def rotate(xs, k):
    if not xs:
        return xs
    k %= len(xs)
    return xs[k:] + xs[:k]


def median_metrics(runs):
    ok = [r["metrics"] for r in runs if r["ok"]]
    if not ok:
        return None
    med = {}
    for k in ok[0]:
        vals = [m[k] for m in ok if isinstance(m.get(k), (int, float)) and not isinstance(m.get(k), bool)]
        if vals:
            med[k] = statistics.median(vals)
    return med


def fmt_num(v):
    if v is None:
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description="ssews benchmark harness (bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition: under 3 minutes (CI)")
    ap.add_argument("--reps", type=int, default=0, help="repetitions (default 3, --quick 1)")
    ap.add_argument("--only", default="", help="comma-separated scenario keys to run (default: all), e.g. s2_echo_8,s7")
    ap.add_argument("--peers", default="", help="comma-separated peers (default: all): " + ",".join(PEER_ORDER))
    ap.add_argument("--no-callgrind", action="store_true", help="skip the callgrind figure")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one size, e.g. --set sat_rates=1000,2000,4000 --set fan_subs=2000")
    a = ap.parse_args()
    t_start = time.time()
    mode = "quick" if a.quick else "full"
    only = [s for s in a.only.split(",") if s]
    peers = [p for p in (a.peers.split(",") if a.peers else PEER_ORDER)]
    for p in peers:
        if p not in PEERS:
            sys.exit(f"bench: unknown peer {p!r}; peers: {', '.join(PEER_ORDER)}")
    if "ssews" not in peers:
        peers.insert(0, "ssews")
    wanted = lambda key: not only or any(key.startswith(o) for o in only)
    if "ssews_plain" not in peers and wanted("s9_deflate"):
        peers.append("ssews_plain")  # scenario 8 compares ssews with itself, compression off

    atexit.register(stop_all)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

    # This run's server and load-generator logs and generated configurations replace the last run's.
    shutil.rmtree(BUILD / "run", ignore_errors=True)
    for f in LOGS.glob("*.log") if LOGS.exists() else []:
        if f.name != "setup.log":
            f.unlink()
    prep = Prep()
    prep.run(want_nchan="nchan" in peers, want_bindings=wanted("s7"),
             want_centrifugo="centrifugo" in peers and wanted("s8"))
    h = Harness(mode, a.reps, only, peers)
    s = h.size
    # A run of only some scenarios, peers or sizes does not overwrite the full set of results.
    h.out = mode + ("-partial" if (only or a.peers or a.set or a.reps) else "")
    for kv in a.set:
        k, _, val = kv.partition("=")
        if k not in s:
            sys.exit(f"bench: --set {k}: unknown size; sizes: {', '.join(s)}")
        s[k] = type(s[k])(val) if not isinstance(s[k], tuple) else tuple(int(x) for x in val.split(","))
    print(f"bench: {mode} run, {s['reps']} repetition(s), open-file limit {nofile}; "
          f"server on CPU {SERVER_CPU}, load generator on CPU {LOADGEN_CPU}"
          f"{'' if HAVE_TASKSET else ' (NOT pinned: taskset or a second core missing)'}", flush=True)

    skipped = dict(prep.skip)
    for rep in range(s["reps"]):
        print(f"bench: repetition {rep + 1} of {s['reps']}", flush=True)
        for key, title, need, smode, fn, metric, better, targets in SCENARIOS:
            if not wanted(key):
                continue
            order = [p for p in peers if need in PEERS[p][1] and p not in skipped]
            for peer in rotate(order, rep):
                t0 = time.time()
                try:
                    run = Run(h, key, peer, smode, rep)
                    with run:
                        m = fn(h, run)
                    h.record(key, peer, rep, True, m, seconds=time.time() - t0)
                except Exception as ex:  # a failure is a result: it goes in the table
                    h.record(key, peer, rep, False, error=str(ex)[:300], seconds=time.time() - t0)
        # Scenario 7: bindings.
        if wanted("s7"):
            for lang, ref in (("py", "websockets"), ("node", "ws")):
                key = f"s7_bind_{lang}"
                interp, why = binding_probe(lang)
                if lang == "node" and getattr(prep, "no_cpu_clock", None):
                    interp, why = None, f"no thread CPU clock addon: {prep.no_cpu_clock}"
                    ref_interp_ok = False
                else:
                    ref_interp_ok = True
                ref_interp = str(VENV / "bin" / "python") if lang == "py" else "node"
                if (lang == "py" and "pyws" in skipped) or not ref_interp_ok:
                    ref_interp = None
                for impl, it in rotate([("ssews", interp), (ref, ref_interp)], rep):
                    t0 = time.time()
                    peer = "ssews" if impl == "ssews" else ("pyws" if lang == "py" else "ws")
                    if it is None:
                        if rep == 0:
                            h.record(key, peer, rep, False, error="skipped: " + (why or "reference not installed"))
                        continue
                    try:
                        h.record(key, peer, rep, True, sc_binding(h, lang, impl, rep, it), seconds=time.time() - t0)
                    except Exception as ex:
                        h.record(key, peer, rep, False, error=str(ex)[:300], seconds=time.time() - t0)
        # Scenario 8: a two-node cluster through Redis against the same load on one node, and
        # against the clusters of Socket.IO (@socket.io/redis-adapter) and Centrifugo (Redis engine).
        if wanted("s8"):
            if shutil.which("redis-server") is None:
                if rep == 0:
                    h.record("s8_cluster", "ssews", rep, False, error="skipped: no redis-server (scripts/setup.sh)")
            else:
                for peer in rotate([p for p in ("ssews",) + CLUSTER_PEERS if p in peers and p not in skipped], rep):
                    t0 = time.time()
                    try:
                        m = sc_cluster(h, rep) if peer == "ssews" else sc_cluster_peer(h, rep, peer)
                        h.record("s8_cluster", peer, rep, True, m, seconds=time.time() - t0)
                    except Exception as ex:
                        h.record("s8_cluster", peer, rep, False, error=str(ex)[:300], seconds=time.time() - t0)
    # Callgrind: once (instruction counts do not vary with the machine's load).
    if not a.no_callgrind and wanted("cg"):
        print("bench: callgrind (instructions per delivered message, fixed workload)", flush=True)
        for peer in [p for p in ("ssews", "floor", "nchan") if p in peers and p not in skipped]:
            t0 = time.time()
            try:
                h.record("cg_fanout", peer, 0, True, sc_callgrind(h, peer), seconds=time.time() - t0)
            except Exception as ex:
                h.record("cg_fanout", peer, 0, False, error=str(ex)[:300], seconds=time.time() - t0)

    report(h, prep, skipped, t_start)
    return 0


def report(h, prep, skipped, t_start):
    mode, s = h.mode, h.size
    RESULTS.mkdir(parents=True, exist_ok=True)
    by = {}
    for r in h.runs:
        by.setdefault((r["scenario"], r["peer"]), []).append(r)
    med = {k: median_metrics(v) for k, v in by.items()}

    def short(t, n=60):
        return t if len(t) <= n else t[:n - 1] + "…"

    def errors(k):
        es = [r["error"] for r in by.get(k, []) if not r["ok"]]
        return es[0] if es else None

    cols = [p for p in PEER_ORDER if p != "ssews" and p in h.peers]
    v = prep.versions
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        f"ssews benchmark ({mode}, {s['reps']} repetition(s), median) — {when} — ssews {v.get('ssews')}",
        f"machine: {v.get('machine')}; server pinned to CPU {SERVER_CPU}, load generator (Go, GOMAXPROCS=1) to CPU "
        f"{LOADGEN_CPU}" + ("" if HAVE_TASKSET else " — NOT PINNED"),
        f"libwebsockets {v.get('libwebsockets')}; Go {v.get('go')}; Node {v.get('node')}; Python {v.get('python')}",
        f"peers: Node ws {v.get('ws')} (+ Node http for SSE), gorilla/websocket {v.get('gorilla')}, "
        f"lxzan/gws {v.get('gws')}, Python websockets {v.get('websockets')}, nginx {v.get('nginx')} + nchan "
        f"{v.get('nchan')}, lws floor on libwebsockets {v.get('libwebsockets')}, epoll floor (epoll + send(), no library); "
        f"clusters: Redis {v.get('redis')}, Socket.IO {v.get('socket.io')} + @socket.io/redis-adapter "
        f"{v.get('redis-adapter')} + redis {v.get('node-redis')}, Centrifugo {v.get('centrifugo')}; load generator on {v.get('loadgen')}",
        f"sizes: idle {s['idle']} conns; echo {s['echo_conns']} conns × {s['echo_dur']}; fan-out 1 channel × "
        f"{s['fan_subs']} subs, {s['fan_rate']}/s for {s['fan_dur']}; SSE saturation rates {s['sse_sat_rates']}/s; "
        f"saturation {s['sat_channels']}×{s['sat_subs']} at {s['sat_rates']}/s, {s['sat_step']} steps; "
        f"ramp {s['ramp']}; bindings {s['bind_subs']} subs × {s['bind_count']} msgs; deflate fan-out "
        f"{s['defl_subs']} subs, ~2 KB JSON, {s['defl_rate']}/s for {s['defl_dur']}; cluster saturation "
        f"{s['sat_channels']}×{s['sat_subs']} at {s['clu_sat_rates']}/s",
    ]

    def cell(key, metric, peer, better):
        if peer in CLUSTER_PEERS and key != "s8_cluster":
            return "n/a"
        if peer in skipped:
            return f"skipped: {skipped[peer]}"
        e_ss, e_p = errors((key, "ssews")), errors((key, peer))
        m_ss, m_p = med.get((key, "ssews")), med.get((key, peer))
        if (key, peer) not in by:
            return "n/a"
        if m_ss is None:
            return "ssews failed" if e_ss and not e_ss.startswith("skipped") else short(e_ss or "—")
        if m_p is None:
            return "peer failed" if e_p and not e_p.startswith("skipped") else short(e_p or "—")
        if metric.endswith("@"):  # per-rate metric: the highest rate both have
            common = [float(k[len(metric):]) for k in m_ss if k.startswith(metric) and k in m_p]
            if not common:
                return "—"
            metric = f"{metric}{max(common):g}"
        a, b = m_ss.get(metric), m_p.get(metric)
        if a is None or b is None:
            return "—"
        if b == 0:
            return "∞" if a else "—"
        return f"{a / b:.2f}×" if a / b >= 0.1 else f"{a / b:.2g}×"

    def target_text(targets, better):
        op = "≥" if better == "higher" else "≤"
        return ", ".join(f"{op} {t}× {PEERS[p][0]}" for p, t in targets.items()) or "—"

    rows = []
    ratios = {}
    for key, title, need, smode, fn, metric, better, targets in SCENARIOS:
        if not any(k[0] == key for k in by):
            continue
        ss = med.get((key, "ssews"))
        ssv = fmt_num(ss.get(metric)) if ss else "FAIL"
        cells = [cell(key, metric, p, better) for p in cols]
        ratios[key] = dict(zip(cols, cells))
        rows.append([title, f"{metric} ({better} better)", ssv] + cells + [target_text(targets, better)])
    for key, metric, title, better in SECONDARY:
        if not any(k[0] == key for k in by):
            continue
        ss = med.get((key, "ssews"))
        if metric.endswith("@") and ss:
            rates = [float(k[len(metric):]) for k in ss if k.startswith(metric)]
            ssv = f"{fmt_num(ss[f'{metric}{max(rates):g}'])} at {max(rates):g}/s" if rates else "—"
        else:
            ssv = fmt_num(ss.get(metric)) if ss and metric in ss else "—"
        rows.append([title, f"{metric} ({better} better)", ssv] + [cell(key, metric, p, better) for p in cols] + ["—"])
    for lang, ref, target in (("py", "pyws", "≥ 5× websockets; call ≤ 2 µs"), ("node", "ws", "≥ 1.3× ws; call ≤ 2 µs")):
        key = f"s7_bind_{lang}"
        if not any(k[0] == key for k in by):
            continue
        ss = med.get((key, "ssews"))
        ssv = fmt_num(ss.get("deliveries_per_s")) if ss else short(errors((key, "ssews")) or "FAIL")
        cells = []
        for p in cols:
            cells.append(cell(key, "deliveries_per_s", p, "higher") if p == ref else "n/a")
        rows.append([f"7. {'Python' if lang == 'py' else 'Node'} binding publish loop", "deliveries_per_s (higher better)",
                     ssv] + cells + [target])
        if ss and ss.get("call_us") is not None:
            rows.append([f"7. {'Python' if lang == 'py' else 'Node'} binding: one publish call", "call_us (lower better)",
                         fmt_num(ss["call_us"])] + [cell(key, "call_us", p, "lower") if p == ref else "n/a"
                                                   for p in cols] + ["≤ 2 µs"])
    if any(k[0] == "s8_cluster" for k in by):
        ss = med.get(("s8_cluster", "ssews"))
        fail = short(errors(("s8_cluster", "ssews")) or "FAIL")
        na = ["n/a"] * len(cols)

        def s8_cells(metric, better):  # ssews' cluster ÷ the Socket.IO and Centrifugo clusters
            return [cell("s8_cluster", metric, p, better) if p in CLUSTER_PEERS else "n/a" for p in cols]

        ratios["s8_cluster"] = {p: {m: cell("s8_cluster", m, p, b) for m, b in (
            ("p99_ms", "lower"), ("deliveries_per_s", "higher"), ("best_deliveries_per_s", "higher"))}
            for p in cols if p in CLUSTER_PEERS}
        if ss:
            rows.append(["8. cluster (2 nodes + Redis) WS fan-out: p99 to last sub", "p99_ms (lower better)",
                         fmt_num(ss.get("p99_ms"))] + s8_cells("p99_ms", "lower") +
                        [f"≤ 1.3× one node: {ss['p99_vs_single']:.2f}× ({fmt_num(ss.get('single_p99_ms'))} ms)"
                         if ss.get("p99_vs_single") is not None else "≤ 1.3× one node"])
            rows.append(["8. cluster: deliveries/s at the fan-out rate", "deliveries_per_s (higher better)",
                         fmt_num(ss.get("deliveries_per_s"))] + s8_cells("deliveries_per_s", "higher") +
                        [f"one node: {fmt_num(ss.get('single_deliveries_per_s'))}"])
            rows.append(["8. cluster: highest sustained deliveries/s (C×S WS)", "best_deliveries_per_s (higher better)",
                         fmt_num(ss.get("best_deliveries_per_s"))] + s8_cells("best_deliveries_per_s", "higher") +
                        [f"≥ 2× Socket.IO cluster; one node: {fmt_num(ss.get('single_best_deliveries_per_s'))}"])
        else:
            rows.append(["8. cluster (2 nodes + Redis) WS fan-out", "p99_ms", fail] + na + ["≤ 1.3× one node"])
    if any(k[0] == "cg_fanout" for k in by):
        ss = med.get(("cg_fanout", "ssews"))
        ssv = fmt_num(ss.get("instructions_per_delivery")) if ss else "FAIL"
        cells = []
        for p in cols:
            cells.append(cell("cg_fanout", "instructions_per_delivery", p, "lower") if ("cg_fanout", p) in by else "n/a")
        rows.append(["callgrind: WS fan-out", "instructions_per_delivery (lower better)", ssv] + cells + ["—"])

    header = ["scenario", "metric", "ssews"] + [f"÷ {PEERS[p][0]}" for p in cols] + ["target"]
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        md.append("| " + " | ".join(str(c).replace("|", "/") for c in r) + " |")
    # Raw medians, peer by peer.
    raw_hdr = ["scenario", "metric"] + [PEERS[p][0] for p in ["ssews"] + cols]
    raw = ["| " + " | ".join(raw_hdr) + " |", "|" + "---|" * len(raw_hdr)]
    for key, title, need, smode, fn, metric, better, targets in SCENARIOS + [
            ("cg_fanout", "callgrind: WS fan-out", "", "", None, "instructions_per_delivery", "lower", {})]:
        if not any(k[0] == key for k in by):
            continue
        vals = []
        for p in ["ssews"] + cols:
            m = med.get((key, p))
            if (key, p) not in by:
                vals.append("n/a")
            elif m is None:
                vals.append("FAIL")
            else:
                vals.append(fmt_num(m.get(metric)))
        raw.append("| " + " | ".join([title, metric] + vals) + " |")
    for key, metric, title in RAW_EXTRA:
        if any(k[0] == key for k in by):
            raw.append("| " + " | ".join([title, metric] + [
                "n/a" if (key, p) not in by else fmt_num((med.get((key, p)) or {}).get(metric))
                for p in ["ssews"] + cols]) + " |")

    fails = [r for r in h.runs if not r["ok"] and not (r["error"] or "").startswith("skipped")]
    failures_md = [f"- {r['scenario']} / {r['peer']} (rep {r['rep'] + 1}): {r['error']}" for r in fails]
    failures_md += [f"- note: {r['scenario']} / {r['peer']} (rep {r['rep'] + 1}): {r['metrics']['note']}"
                    for r in h.runs if r["ok"] and r["metrics"].get("note")]
    md.append("\n*: at the highest publish rate both servers ran (the ssews column names it).")
    text = "\n".join(head) + "\n\nRatios ssews ÷ peer (median of repetitions; cells say why a ratio is missing):\n\n" + \
        "\n".join(md) + "\n\nMedians per server:\n\n" + "\n".join(raw) + "\n"
    if failures_md:
        text += "\nFailures and notes:\n\n" + "\n".join(failures_md) + "\n"
    print("\n" + text, flush=True)

    data = {"meta": {"mode": mode, "when": when, "versions": v, "sizes": {k: (list(x) if isinstance(x, tuple) else x)
                                                                           for k, x in s.items()},
                     "pinned": HAVE_TASKSET, "skipped": skipped, "seconds": round(time.time() - t_start, 1)},
            "runs": h.runs,
            "medians": {f"{k[0]}/{k[1]}": m for k, m in med.items()},
            "ratios": ratios}
    jpath = RESULTS / f"{h.out}.json"
    jpath.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    (RESULTS / f"{h.out}.md").write_text("```\n" + "\n".join(head) + "\n```\n\n" + "\n".join(md) + "\n\n" +
                                        "\n".join(raw) + "\n" + ("\nFailures and notes:\n\n" + "\n".join(failures_md) + "\n"
                                                                 if failures_md else ""))
    chart = RESULTS / f"{h.out}.png"
    why = None
    if (VENV / "bin" / "python").exists():
        why = sh([VENV / "bin" / "python", BENCH / "chart.py", jpath, chart], LOGS / "chart.log")
    else:
        why = "no bench/.venv (matplotlib)"
    okn = sum(1 for r in h.runs if r["ok"])
    print(f"bench: done in {time.time() - t_start:.0f} s — {len(h.runs)} runs: {okn} ok, {len(fails)} failed, "
          f"{len(h.runs) - okn - len(fails)} skipped; peers skipped: "
          f"{', '.join(f'{k} ({x})' for k, x in skipped.items()) or 'none'}; wrote {jpath.relative_to(ROOT)}, "
          f"{(RESULTS / (h.out + '.md')).relative_to(ROOT)}" +
          (f", {chart.relative_to(ROOT)}" if not why else f" (no chart: {why})"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
