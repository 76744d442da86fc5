"""Shared helpers of the benchmarks: app under gunicorn, load with wrk, reference with pgbench.

A benchmark is a module of ``bench/`` with a ``main(argv)`` that measures something against
a reference measured in the same run and ends by ``emit()``-ing one JSON line; see
``bench/README.md``. Everything runs on this machine: the app, PostgreSQL and Redis on
127.0.0.1, and only there does the toolkit send traffic.
"""

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LUA_DIR = Path(__file__).resolve().parent / "lua"

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_URL = "redis://127.0.0.1:6379/3"  # a Redis database of the benchmarks' own
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
MB = 1024 * 1024


class BenchError(RuntimeError):
    """A benchmark could not run (a tool missing, the app not starting, a failed command)."""


def log(message):
    """Progress on stderr: stdout is kept for the final JSON line."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _require(tool):
    path = shutil.which(tool)
    if not path:
        raise BenchError(f"{tool} is not installed: `make system-packages` installs it.")
    return path


def _run(cmd, *, env=None, timeout=None, what=None):
    """Runs a command to completion; its output is only shown when it fails."""
    completed = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if completed.returncode != 0:
        raise BenchError(
            f"{what or cmd[0]} failed ({completed.returncode}):\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )
    return completed.stdout


# --- The app's environment and database ---------------------------------------------------


def _static_root():
    # collectstatic with whitenoise's compression takes about a minute on two cores, too long
    # to repeat on every quick run: the result is kept in a temporary folder of this
    # checkout (named after its path, so that two checkouts don't share one) and redone only
    # when a fingerprint of the static sources changes (see _static_fingerprint).
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"passnum-bench-static-{tag}"


def bench_environment(database="passnum_bench"):
    """Environment of the app with production settings on the benchmarks' PostgreSQL database.

    The variables of the calling environment that configure Passnum (``PASSNUM_*``,
    ``DJANGO_*``, ``CELERY_*``, database and Redis URLs) are dropped, so that running inside
    ``make test`` (``PASSNUM_ENV=test``, eager Celery…) does not leak into the benchmark.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PASSNUM_", "DJANGO_", "CELERY_"))
        and name not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL"}
    }
    data_dir = Path(tempfile.mkdtemp(prefix="passnum-bench-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    env.update(
        DJANGO_SETTINGS_MODULE="passnum.settings",
        PASSNUM_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),  # a new one per run: nothing outlives it
        DJANGO_ALLOWED_HOSTS=",".join(sorted(LOCAL_HOSTS)),
        # The benchmarks speak plain HTTP to gunicorn, as a TLS-terminating proxy would.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
        REDIS_URL=REDIS_URL,
        PASSNUM_DATA_DIR=str(data_dir),
        DJANGO_MEDIA_ROOT=str(data_dir / "media"),
        DJANGO_STATIC_ROOT=str(_static_root()),
        # No SMTP server here: mail is built as in production, then dropped.
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
    )
    return env


def database_name(env):
    """The PostgreSQL database of an environment made by ``bench_environment``."""
    return urlsplit(env["DATABASE_URL"]).path.lstrip("/")


def ensure_database(name):
    """Creates the PostgreSQL database ``name`` if it does not exist yet."""
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        with contextlib.suppress(errors.DuplicateDatabase):  # created meanwhile by a concurrent run
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _static_fingerprint():
    # Our static folders (sizes and dates of their files), the locked third-party packages
    # that bring theirs (admin, DRF, Swagger UI…) and the settings that list them.
    digest = hashlib.sha256()
    for name in ("requirements.lock", "passnum/settings.py"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    skip = {".venv", "node_modules", "var", ".git", "__pycache__"}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        if "static" not in Path(folder).relative_to(ROOT).parts:
            continue
        for name in sorted(files):
            stat = (Path(folder) / name).stat()
            digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static(env):
    """Runs ``collectstatic`` into ``DJANGO_STATIC_ROOT`` unless it is already up to date."""
    root = Path(env["DJANGO_STATIC_ROOT"])
    root.mkdir(parents=True, exist_ok=True)
    stamp = root / ".bench-fingerprint"
    fingerprint = _static_fingerprint()
    # A lock, so that two runs at once (make bench and make test) don't collect together.
    with open(root / ".bench-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == fingerprint:
            return
        log("collectstatic (once per change of the static files, about a minute)")
        stamp.unlink(missing_ok=True)
        _run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env, what="collectstatic")
        stamp.write_text(fingerprint)


def drop_database(name):
    """Drops the PostgreSQL database ``name`` if it exists (a benchmark that writes starts from
    an empty one, so that its figures do not depend on how many runs came before)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare_database(env, *, fresh=False):
    """Creates the benchmark database if missing (anew with ``fresh``), migrates it and collects
    the static files.

    It also empties the benchmarks' Redis database (cache and Celery queue), so that a run
    does not start with what an earlier one left there.
    """
    if fresh:
        drop_database(database_name(env))
    ensure_database(database_name(env))
    log(f"migrate {database_name(env)}")
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, what="migrate")
    collect_static(env)
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        client.flushdb()
    finally:
        client.close()


# --- The app under gunicorn -------------------------------------------------------------


def free_port():
    """A TCP port of 127.0.0.1 free right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_workers():
    """gunicorn processes for this machine: one per core, plus one.

    Django holds the GIL while it computes, so only processes add CPU; the extra one keeps
    both cores busy while a worker waits on PostgreSQL. gunicorn's usual ``2 * cores + 1``
    assumes the app has the machine to itself; here PostgreSQL and the load generator run on
    the same cores, and more processes only add context switches and memory.
    """
    return (os.cpu_count() or 1) + 1


class GunicornServer:
    """The app under gunicorn on 127.0.0.1, as a context manager.

    ``gthread`` workers, ``threads`` threads each: threads overlap the waits on PostgreSQL
    and Redis inside a process, and unlike ``sync`` workers gthread keeps HTTP keep-alive
    connections open, so wrk's clients don't pay a TCP handshake per request, as clients
    behind a reverse proxy wouldn't. ``.url`` (no trailing slash) and ``.pid`` (the master,
    whose process tree holds the workers) are set once /healthz answers 200.
    """

    def __init__(
        self, env, workers=None, port=None, *, threads=4, extra_args=(), start_timeout_s=90, stop_timeout_s=15
    ):
        self.env = env
        self.workers = workers or default_workers()
        self.threads = threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.process = None
        self.pid = None
        self._log = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        cmd = [
            sys.executable, "-m", "gunicorn", "passnum.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers),
            "--worker-class", "gthread",
            "--threads", str(self.threads),
            "--graceful-timeout", str(max(1, self.stop_timeout_s - 5)),
            "--log-level", "warning",
            "--error-logfile", "-",
            *self.extra_args,
        ]  # fmt: skip
        log(f"gunicorn: {self.workers} workers x {self.threads} threads on {self.url}")
        # Output goes to a file, not a pipe nobody reads (a full pipe would block gunicorn).
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        # Its own session: on a forced stop, the whole group (master and workers) is killed.
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = self.process.pid
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self):
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}):\n{self.log_text()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    return
                last = f"{response.status} {body[:300]!r}"
            except OSError as error:
                last = repr(error)
            finally:
                conn.close()
            time.sleep(0.2)
        raise BenchError(f"/healthz did not answer 200 in {self.start_timeout_s} s ({last}):\n{self.log_text()}")

    def log_text(self):
        """What gunicorn has written so far (its errors, and the app's warnings)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-5000:]

    def stop(self):
        """SIGTERM (graceful stop of the workers), SIGKILL of the group after a timeout."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()


# --- Load with wrk, reference with pgbench -------------------------------------------------


def _check_local(url):
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise BenchError(f"benchmarks only send traffic to this machine, not to {host}")


def run_wrk(
    url,
    *,
    connections,
    duration_s,
    threads=1,
    lua_script=None,
    script_args=None,
    headers=None,
    timeout_s=10,
    env=None,
):
    """Loads ``url`` with wrk: ``connections`` clients for ``duration_s`` seconds; a dict.

    wrk is a small C program driven by an event loop: one thread (the default) sends
    thousands of requests a second and leaves the other core to the app. Each client sends
    its next request as soon as the previous answer arrives (a closed loop).

    ``lua_script`` defaults to ``bench/lua/summary.lua``; scripts that include
    ``common.lua`` (all of ``bench/lua``) make wrk print a JSON summary: requests, rps,
    p50/p75/p90/p99/p999/mean/max in ms (from wrk's histogram of every request's
    latency), ``status`` (count by HTTP status), ``non_2xx``, ``socket_errors``, ``errors``
    (both) and ``exhausted_threads`` (post_json.lua ran out of bodies). ``script_args``
    (a dict) reach the script's init() as ``key=value``, with ``threads`` added;
    ``headers`` (a dict) are sent with every request; ``env`` is added to wrk's environment.
    wrk counts whole seconds: ``duration_s`` is rounded up. ``timeout_s`` is wrk's socket
    timeout: a slower answer counts as an error, not as a latency.
    """
    _check_local(url)
    seconds = max(1, math.ceil(duration_s))
    script = Path(lua_script) if lua_script else LUA_DIR / "summary.lua"
    cmd = [_require("wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s"]
    cmd += ["-s", str(script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    args = {"threads": threads, **(script_args or {})}
    cmd += [url, "--", *(f"{key}={value}" for key, value in args.items())]
    stdout = _run(cmd, env={**os.environ, **(env or {})}, timeout=seconds + 120, what="wrk")
    for line in reversed(stdout.splitlines()):
        if line.startswith("WRK_JSON "):
            return json.loads(line.removeprefix("WRK_JSON "))
    raise BenchError(f"wrk printed no WRK_JSON summary (a script without common.lua?):\n{stdout[-2000:]}")


def post_json_script_args(bodies_file, path):
    """``script_args`` for ``bench/lua/post_json.lua`` with a fresh Idempotency-Key prefix.

    Use with ``run_wrk(..., lua_script=LUA_DIR / "post_json.lua", script_args=...)``; the
    file holds one JSON body per line, and each request takes the next one.
    """
    return {"bodies": str(bodies_file), "path": path, "key_prefix": str(uuid.uuid4())[:18]}


def parse_pgbench_tps(output):
    """The ``tps = …`` figure of pgbench's report."""
    match = re.search(r"^tps = ([0-9.]+)", output, re.MULTILINE)
    if not match:
        raise BenchError(f"no tps in pgbench's output:\n{output[-2000:]}")
    return float(match.group(1))


def pgbench_tps(
    *,
    duration_s,
    clients=8,
    select_only=False,
    extra_args=("-N",),
    threads=1,
    scale=1,
    database="passnum_pgbench",
):
    """Transactions per second of pgbench on its own database, initialised anew each time.

    The reference the HTTP figures are divided by: PostgreSQL on this machine, now. ``-N``
    (the default) is the TPC-B-like script without its updates of the two small tables,
    so the clients don't just queue on one row; ``select_only`` runs ``-S`` instead of
    ``extra_args``. One pgbench thread, like wrk, keeps the load generator light.
    """
    return pgbench_run(
        duration_s=duration_s, clients=clients, select_only=select_only, extra_args=extra_args, threads=threads,
        scale=scale, database=database,
    )["tps"]  # fmt: skip


def parse_pgbench_transactions(output):
    """The ``number of transactions actually processed`` of pgbench's report."""
    match = re.search(r"^number of transactions actually processed: (\d+)", output, re.MULTILINE)
    if not match:
        raise BenchError(f"no transaction count in pgbench's output:\n{output[-2000:]}")
    return int(match.group(1))


def pgbench_run(
    *,
    duration_s,
    clients=8,
    select_only=False,
    extra_args=("-N",),
    threads=1,
    scale=1,
    database="passnum_pgbench",
):
    """``pgbench_tps``'s run, with its CPU: a dict with ``tps``, ``transactions`` and
    ``cpu_s`` (the pgbench client and the PostgreSQL backends of its database, during the
    timed run only: the initialisation is not counted), hence ``cpu_ms_per_tx``."""
    pgbench = _require("pgbench")
    ensure_database(database)
    conn_args = ["-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER]
    _run([pgbench, "-i", "-q", "-s", str(scale), *conn_args, database], timeout=600, what="pgbench -i")
    seconds = max(1, math.ceil(duration_s))
    script_args = ["-S"] if select_only else list(extra_args)
    cmd = [pgbench, "-c", str(clients), "-j", str(threads), "-T", str(seconds), *script_args, *conn_args, database]
    client_before = _children_cpu_s()
    with CpuMeter(databases=[database], interval_s=0.05) as meter:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = process.communicate(timeout=seconds + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise BenchError("pgbench did not finish") from None
    # The client's own CPU, from the kernel's account of this process's reaped children.
    client_s = _children_cpu_s() - client_before
    if process.returncode != 0:
        raise BenchError(f"pgbench failed ({process.returncode}):\n{stdout[-3000:]}{stderr[-3000:]}")
    transactions = parse_pgbench_transactions(stdout)
    cpu_s = meter.cpu_s + client_s
    return {
        "tps": parse_pgbench_tps(stdout),
        "transactions": transactions,
        "cpu_s": cpu_s,
        "cpu_ms_per_tx": 1000 * cpu_s / max(1, transactions),
    }


def _children_cpu_s():
    """CPU of this process's children reaped so far, in s (``os.times``)."""
    times = os.times()
    return times.children_user + times.children_system


# --- Memory and CPU of a process tree, from /proc -------------------------------------------


# /proc/<pid>/task/<tid>/children needs a kernel built with CONFIG_PROC_CHILDREN; where it
# is missing (some virtual machines), the parents are read from every process's stat instead.
_CHILDREN_FILES = any(Path(f"/proc/{os.getpid()}/task").glob("*/children"))


def _children(pid):
    found = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            found += [int(child) for child in path.read_text().split()]
    return found


def _parents():
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat.read_text())
        except OSError:  # the process ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def _stat_fields(text):
    # The command name (2nd field) may hold spaces and parentheses: split after its ")".
    # Returns the fields from the 3rd (state) on: ppid is [1], utime [11], stime [12].
    return text[text.rindex(")") + 2 :].split()


def process_tree(pid):
    """``pid`` and all its descendants that are alive now."""
    parents = None if _CHILDREN_FILES else _parents()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        if parents is None:
            todo += _children(current)
        else:
            todo += [child for child, parent in parents.items() if parent == current]
    return tree


def _status_kb(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):  # ended meanwhile
        pass
    return 0  # kernel threads and zombies have no memory lines


def rss_mb(pid):
    """Resident memory of ``pid`` and its descendants now, in MB (2**20 bytes).

    Pages shared by several processes (the code forked by gunicorn's master) count once per
    process, so the total overstates what the tree adds to the machine: an upper bound.
    """
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid)) * 1024 / MB


def peak_rss_mb(pid):
    """Sum over ``pid`` and its live descendants of each one's peak RSS (VmHWM), in MB.

    The peaks may not have happened at the same time: for the peak of the total, sample it
    with ``RssSampler``.
    """
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid)) * 1024 / MB


class RssSampler:
    """Samples the total RSS of a process tree in a thread; a context manager.

    ``peak_mb`` is the largest total seen, ``peak_by_pid_mb`` the largest RSS of each
    process (``max_process_mb`` the largest of those, e.g. of a gunicorn worker). A sample
    is taken when it starts and when it stops, so even a short run has two.
    """

    def __init__(self, pid, interval_s=0.1):
        self.pid = pid
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self.peak_by_pid_mb = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"rss-{pid}", daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        self.sample()
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self):
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self):
        total = 0.0
        for pid in process_tree(self.pid):
            mb = _status_kb(pid, "VmRSS") * 1024 / MB
            total += mb
            self.peak_by_pid_mb[pid] = max(self.peak_by_pid_mb.get(pid, 0.0), mb)
        self.peak_mb = max(self.peak_mb, total)
        self.samples += 1
        return total

    @property
    def max_process_mb(self):
        return max(self.peak_by_pid_mb.values(), default=0.0)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time (user + system) used so far by ``pid`` and its live descendants, in s.

    Take it before and after a load, on the gunicorn master, to get the app's CPU per item.
    """
    return sum(_process_ticks(current) or 0 for current in process_tree(pid)) / CLOCK_TICKS


def _process_ticks(pid):
    """utime + stime of one process (all its threads), in clock ticks; None once it ended."""
    try:
        fields = _stat_fields(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError):
        return None
    return int(fields[11]) + int(fields[12])


def postgres_backends(database):
    """Pids of the PostgreSQL backends connected to ``database`` now (their process title is
    ``postgres: [cluster: ]user database host(port) state``)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            continue
        if words[:1] == ["postgres:"] and database in words[1:4]:
            found.append(int(cmdline.parent.name))
    return found


class CpuMeter:
    """CPU time (user + system) spent by a set of processes over a ``with`` block, in s.

    The set: the process trees of ``pids`` (the gunicorn master and its workers, a pgbench
    client) and the PostgreSQL backends of ``databases``, sampled every ``interval_s`` from
    /proc/<pid>/stat so that a process that ends during the block counts up to its last
    sample (a backend that connects and leaves between two samples is missed: the loads here
    keep their connections). A process already alive at the start counts from then; one that
    appears later, from its birth. ``cpu_s`` is the total, ``by_kind_s`` splits it between
    ``processes`` and ``postgres``.
    """

    def __init__(self, pids=(), databases=(), interval_s=0.1):
        self.pids = list(pids)
        self.databases = list(databases)
        self.interval_s = interval_s
        self._first, self._last, self._kind = {}, {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-meter", daemon=True)
        self._started = False

    def __enter__(self):
        self.sample()
        self._started = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self):
        while not self._stop.wait(self.interval_s):
            self.sample()

    def sample(self):
        current = {}
        for root in self.pids:
            for pid in process_tree(root):
                current[pid] = "processes"
        for database in self.databases:
            for pid in postgres_backends(database):
                current[pid] = "postgres"
        for pid, kind in current.items():
            ticks = _process_ticks(pid)
            if ticks is None:
                continue
            if pid not in self._first:
                # Alive before the block: count from now. Born during it: count from its birth.
                self._first[pid] = ticks if not self._started else 0
                self._kind[pid] = kind
            self._last[pid] = ticks

    @property
    def by_kind_s(self):
        totals = {"processes": 0.0, "postgres": 0.0}
        for pid, first in self._first.items():
            totals[self._kind[pid]] += (self._last[pid] - first) / CLOCK_TICKS
        return totals

    @property
    def cpu_s(self):
        return sum(self.by_kind_s.values())


class Timer:
    """Wall-clock and CPU time of the current process over a ``with`` block.

    ``wall_s`` and ``cpu_s`` (user + system of this process, all threads) are set on exit.
    """

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu


# --- Figures and results ----------------------------------------------------------------------


def percentiles(samples, ps=(50, 90, 99)):
    """``{p: value}`` for each percentile ``p`` (0-100) of ``samples``, linearly interpolated.

    The value at rank ``p / 100 * (n - 1)`` of the sorted samples, between its two
    neighbours: numpy's default ("linear") and ``statistics.quantiles(method="inclusive")``.
    """
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("percentiles of no samples")
    result = {}
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile out of 0-100: {p}")
        rank = p / 100 * (len(ordered) - 1)
        low = math.floor(rank)
        high = min(low + 1, len(ordered) - 1)
        result[p] = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return result


def parse_args(description, argv=None, *, full_duration_s=20.0, quick_duration_s=2.0, clients=16):
    """The common options: ``--quick``, ``--duration`` and ``--clients``.

    ``args.duration`` is ``--duration`` if given, else the quick or full size; likewise
    ``args.clients``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark works")
    parser.add_argument(
        "--duration", type=float, help=f"seconds of load (default {full_duration_s}, quick {quick_duration_s})"
    )
    parser.add_argument("--clients", type=int, default=clients, help=f"concurrent clients (default {clients})")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = quick_duration_s if args.quick else full_duration_s
    return args


def emit(result):
    """Prints ``result`` as the final JSON line of stdout (keys sorted): the benchmark's figures.

    Nothing may be printed to stdout after it; progress goes to stderr (``log``).
    """
    sys.stdout.flush()
    print(json.dumps(result, sort_keys=True), flush=True)
