"""Shared parts of the benches that serve the app for real (not a bench itself).

A bench built on this module creates its own PostgreSQL database, prepares it with `manage.py` in a
subprocess, serves it with gunicorn under production settings (and, when it needs jobs, a django-q2
worker), signs a demo user in through the login API and drives the server with a closed-loop load
generator: every client sends its next request as soon as the previous answer arrived.

    import harness                     # from a script in bench/ (its folder is on sys.path)

    db = harness.Database("gx_soak_", "gx_soak_main")
    db.recreate()
    harness.manage("migrate", env=harness.setup_env(db.url))
    env = harness.ProductionEnv(db.url)
    with harness.Gunicorn(env, port=8120, workers=2) as server:
        token = harness.login_token(server.base_url, "demand@genxsop.com")
        result = harness.run_load(server.base_url, [harness.Request("products", "GET", "/api/v1/products")],
                                  clients=16, seconds=20, headers=harness.auth_headers(token))
        print(result.summary()["products"]["p95_ms"])

The server sits behind no TLS proxy here, so `ProductionEnv` trusts one proxy hop and the clients send
the `X-Forwarded-Proto: https` and `X-Forwarded-For` headers a TLS-terminating proxy would add: the SSL
redirect, secure cookies and HSTS stay exactly as production runs them.
"""

from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "Password123!")
# What a TLS-terminating proxy in front of gunicorn adds to every request (TRUSTED_PROXY_COUNT=1).
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
# Throttles are still evaluated on every request, only with limits a load run cannot reach: the
# bench measures the server, not the limiter.
UNTHROTTLED = {
    "API_THROTTLE_RATE_USER": "10000000/min",
    "API_THROTTLE_RATE_ANON": "10000000/min",
    "API_THROTTLE_RATE_WRITE": "10000000/min",
    "AUTH_THROTTLE_RATE": "10000/min",
}


# Databases -------------------------------------------------------------------------------------


class Database:
    """A scratch PostgreSQL database whose name must start with `prefix` (it is dropped and recreated).

    `server` is the server URL without a database name; `url` is the DATABASE_URL of the database.
    """

    def __init__(self, prefix: str, name: str, server: str = DEFAULT_SERVER):
        if not prefix or not name.startswith(prefix) or not name.replace("_", "").isalnum():
            raise ValueError(f"{name!r}: bench databases are dropped, so the name must start with {prefix!r}")
        self.prefix = prefix
        self.name = name
        self.server = server.rstrip("/")

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"

    def _psql(self, sql: str, *, database: str = "postgres") -> str:
        cmd = ["psql", "--no-psqlrc", "-q", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", f"{self.server}/{database}"]
        result = subprocess.run([*cmd, "-c", sql], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed on {sql!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    def exists(self) -> bool:
        """Whether the database exists on the server."""
        # The name was checked to be letters, digits and underscores in __init__.
        return self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.name}'") == "1"  # noqa: S608

    def recreate(self, template: Database | None = None) -> None:
        """Drop the database (closing its connections) and create it empty, or as a copy of `template`
        (a file-level copy: far faster than migrating and loading the same data again)."""
        self.drop()
        self._psql(f'CREATE DATABASE "{self.name}"' + (f' TEMPLATE "{template.name}"' if template else ""))

    def drop(self) -> None:
        """Drop the database if it exists, closing the connections still open on it."""
        self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str) -> str:
        """Run one SQL statement in the database; its result rows as psql's unaligned text (`|` separated)."""
        return self._psql(sql, database=self.name)

    def count(self, table: str) -> int:
        """Exact row count of `table`."""
        if not table.replace("_", "").isalnum():
            raise ValueError(f"{table!r} is not a plain table name")
        return int(self.query(f'SELECT count(*) FROM "{table}"'))  # noqa: S608 (checked just above)


# Processes -------------------------------------------------------------------------------------


class ProductionEnv(dict):
    """Environment of an app process under production settings on `database_url`.

    Generates a fresh secret key and token pepper (shared by every process started with this
    environment, so tokens issued by one verify in the others), allows the loopback hosts, trusts one
    proxy hop (see the module docstring), raises the API throttles out of reach (`UNTHROTTLED`) and
    logs at WARNING so that per-request log lines do not fill the server log. `extra` overrides any
    of these, e.g. `{"LOG_LEVEL": "INFO", "CACHE_URL": "redis://127.0.0.1:6379/5"}`.
    """

    def __init__(self, database_url: str, extra: dict[str, str] | None = None):
        super().__init__(os.environ)
        self.update(
            {
                "ENVIRONMENT": "production",
                "DATABASE_URL": database_url,
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                "API_TOKEN_PEPPER": secrets.token_urlsafe(48),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "TRUSTED_PROXY_COUNT": "1",
                "LOG_LEVEL": "WARNING",
                "DJANGO_READ_DOT_ENV_FILE": "false",
                **UNTHROTTLED,
            }
        )
        self.pop("DJANGO_SETTINGS_MODULE", None)
        self.update(extra or {})


def setup_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the commands that prepare a bench database (`migrate`, `load_demo`).

    Staging rather than production: `load_demo` refuses production, whose accounts must not share
    the demo password. The served processes use `ProductionEnv`.
    """
    env = ProductionEnv(database_url, extra)
    env["ENVIRONMENT"] = "staging"
    return env


def manage(*args: str, env: dict[str, str], check: bool = True, timeout: float | None = None) -> str:
    """Run `manage.py <args>` in a fresh process with `env`; returns its standard output.

    Raises RuntimeError with the output when the command fails and `check` is true.
    """
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


class _Child:
    """A child process with its output in a log file, stopped by SIGTERM then SIGKILL."""

    name = "process"

    def __init__(self, env: dict[str, str], log_path: str | None = None):
        self.env = env
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix=f"gx_{self.name}_", suffix=".log")
            os.close(fd)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def _spawn(self, cmd: list[str]) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child owns it until it exits)
        # Own process group: stop() signals the master and the workers it forked, nothing else.
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # fmt: skip
        log.close()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the process's output."""
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM the process (it stops its own children), SIGKILL its whole process group after
        `grace` seconds; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        return self.process.returncode

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self):  # pragma: no cover - overridden
        raise NotImplementedError


class Gunicorn(_Child):
    """`gunicorn genxsop.wsgi` on 127.0.0.1:`port`, as production runs it.

    `workers` processes; `threads` > 1 selects the gthread worker class (which also keeps client
    connections alive; the sync worker closes each connection after its answer). `start()` waits
    until `/ready` answers 200. Use as a context manager or call start()/stop().
    """

    name = "gunicorn"

    def __init__(self, env: dict[str, str], *, port: int, workers: int = 2, threads: int = 1,
                 timeout: int = 60, log_path: str | None = None, extra_args: Sequence[str] = ()):  # fmt: skip
        super().__init__(env, log_path)
        self.port = port
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.extra_args = list(extra_args)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def description(self) -> str:
        kind = f"gthread, {self.threads} threads each" if self.threads > 1 else "sync"
        return f"gunicorn {self.workers} workers ({kind})"

    def start(self, ready_timeout: float = 60.0) -> Gunicorn:
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        cmd = [PYTHON, "-m", "gunicorn", "genxsop.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--timeout", str(self.timeout), "--graceful-timeout", "15"]  # fmt: skip
        if self.threads > 1:
            cmd += ["--worker-class", "gthread", "--threads", str(self.threads)]
        self._spawn(cmd + self.extra_args)
        wait_ready(self.base_url, timeout=ready_timeout, process=self)
        return self


class Worker(_Child):
    """A django-q2 worker cluster (`manage.py qcluster`) with `env`; start() returns once it runs."""

    name = "qcluster"

    def start(self, settle: float = 3.0) -> Worker:
        self._spawn([PYTHON, "manage.py", "qcluster"])
        time.sleep(settle)
        if not self.running:
            raise RuntimeError(f"qcluster exited ({self.process.returncode}):\n{self.log_tail()}")
        return self


def wait_ready(base_url: str, *, timeout: float = 60.0, process: _Child | None = None) -> dict:
    """Poll `GET /ready` until it answers 200; returns its body. Fails early if `process` exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and not process.running:
            raise RuntimeError(f"{process.name} exited ({process.process.returncode}):\n{process.log_tail()}")
        try:
            status, body = http_json(base_url, "GET", "/ready", timeout=5)
            if status == 200:
                return body
            last = f"{status} {body}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.3)
    raise RuntimeError(f"{base_url}/ready did not answer 200 within {timeout:.0f}s (last: {last})")


# HTTP and tokens -------------------------------------------------------------------------------


def _split(base_url: str) -> tuple[str, int]:
    hostport = base_url.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.partition(":")
    return host, int(port or 80)


def http_json(base_url: str, method: str, path: str, body=None, headers: dict[str, str] | None = None,
              timeout: float = 30.0) -> tuple[int, object]:  # fmt: skip
    """One request on a new connection; returns (status, parsed JSON body or the raw text)."""
    host, port = _split(base_url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        all_headers = {**PROXY_HEADERS, "Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


def login_token(base_url: str, email: str, password: str = DEMO_PASSWORD) -> str:
    """An access token (`gxa_…`) for a demo user from `POST /api/v1/auth/login`.

    It lives ACCESS_TOKEN_EXPIRE_MINUTES (30 by default; raise it in the server's env for long runs,
    or use `api_token`).
    """
    status, body = http_json(base_url, "POST", "/api/v1/auth/login", {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"login of {email} failed: {status} {body}")
    return body["access_token"]


def api_token(base_url: str, email: str, scopes: Iterable[str], password: str = DEMO_PASSWORD,
              name: str = "bench") -> str:  # fmt: skip
    """A personal API token (`gxs_…`, lives API_TOKEN_DEFAULT_DAYS) with `scopes`, created by the user itself."""
    access = login_token(base_url, email, password)
    status, body = http_json(base_url, "POST", "/api/v1/auth/tokens", {"name": name, "scopes": list(scopes)},
                             headers=auth_headers(access))  # fmt: skip
    if status != 201:
        raise RuntimeError(f"token creation for {email} failed: {status} {body}")
    return body["token"]


def auth_headers(token: str) -> dict[str, str]:
    """The Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


# Load generator --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One kind of request in a load mix.

    `path` and `body` may be callables taking a `random.Random` (the client's own) and returning the
    path or the JSON body, for requests that vary (e.g. a different row each time). `ok` lists the
    statuses that count as success; anything else, and any connection error, is an error.
    `headers` are added to the run's common headers.
    """

    name: str
    method: str
    path: str | Callable[[random.Random], str]
    body: object = None
    weight: float = 1.0
    ok: tuple[int, ...] = (200,)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    """Per-request-name latency samples (ms) and errors of one load run.

    `errors[name]` holds up to 20 example error descriptions; `error_counts[name]` the count.
    """

    seconds: float = 0.0
    clients: int = 0
    samples: dict[str, list[float]] = field(default_factory=dict)
    error_counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)

    def merge(self, other: LoadResult) -> None:
        for name, values in other.samples.items():
            self.samples.setdefault(name, []).extend(values)
        for name, n in other.error_counts.items():
            self.error_counts[name] = self.error_counts.get(name, 0) + n
        for name, examples in other.errors.items():
            bucket = self.errors.setdefault(name, [])
            bucket.extend(examples[: max(0, 20 - len(bucket))])
        for name, counts in other.statuses.items():
            mine = self.statuses.setdefault(name, {})
            for status, n in counts.items():
                mine[status] = mine.get(status, 0) + n

    def requests(self, name: str | None = None) -> int:
        """Completed requests (successes and errors) of `name`, or of all names."""
        names = [name] if name else set(self.samples) | set(self.error_counts)
        return sum(len(self.samples.get(n, ())) + self.error_counts.get(n, 0) for n in names)

    def summary(self) -> dict[str, dict]:
        """Per name: requests, errors, error_rate, rps, p50_ms, p95_ms, p99_ms, mean_ms, max_ms."""
        out = {}
        for name in sorted(set(self.samples) | set(self.error_counts)):
            values = sorted(self.samples.get(name, ()))
            total = len(values) + self.error_counts.get(name, 0)
            out[name] = {
                "requests": total,
                "errors": self.error_counts.get(name, 0),
                "error_rate": (self.error_counts.get(name, 0) / total) if total else 0.0,
                "rps": total / self.seconds if self.seconds else 0.0,
                "p50_ms": percentile(values, 50, presorted=True),
                "p95_ms": percentile(values, 95, presorted=True),
                "p99_ms": percentile(values, 99, presorted=True),
                "mean_ms": (sum(values) / len(values)) if values else math.nan,
                "max_ms": values[-1] if values else math.nan,
            }
        return out


def percentile(values: Sequence[float], pct: float, *, presorted: bool = False) -> float:
    """The `pct` percentile (0 to 100) with linear interpolation between ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = values if presorted else sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class _Client:
    """One keep-alive connection; reconnects when the server closed it between two requests."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> int:
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                # A reused connection the server had already closed: not an answer, resend once.
                if fresh or attempt == 2:
                    raise
            except Exception:
                self.close()
                raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _client_loop(base_url: str, mix: Sequence[Request], headers: dict[str, str], stop_at: float,
                 record_from: float, seed: int, timeout: float, result: LoadResult) -> None:  # fmt: skip
    rng = random.Random(seed)
    host, port = _split(base_url)
    client = _Client(host, port, timeout)
    weights = [r.weight for r in mix]
    common = {**PROXY_HEADERS, "Accept": "application/json", **headers}
    try:
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            req = rng.choices(mix, weights)[0]
            path = req.path(rng) if callable(req.path) else req.path
            body = req.body(rng) if callable(req.body) else req.body
            req_headers = {**common, **req.headers}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                req_headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                status = client.send(req.method, path, data, req_headers)
                error = None if status in req.ok else f"HTTP {status} {req.method} {path}"
            except Exception as exc:  # every failure of the request is an error of the run
                status, error = 0, f"{type(exc).__name__}: {exc} {req.method} {path}"
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            if started < record_from:
                continue  # warm-up
            result.statuses.setdefault(req.name, {}).setdefault(status, 0)
            result.statuses[req.name][status] += 1
            if error:
                result.error_counts[req.name] = result.error_counts.get(req.name, 0) + 1
                examples = result.errors.setdefault(req.name, [])
                if len(examples) < 20:
                    examples.append(error)
            else:
                result.samples.setdefault(req.name, []).append(elapsed_ms)
    finally:
        client.close()


def _threads_run(base_url, mix, headers, threads, stop_at, record_from, seed, timeout) -> LoadResult:
    results = [LoadResult() for _ in range(threads)]
    workers = [
        threading.Thread(target=_client_loop, daemon=True,
                         args=(base_url, mix, headers, stop_at, record_from, seed * 1000 + i, timeout, results[i]))
        for i in range(threads)
    ]  # fmt: skip
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    merged = LoadResult()
    for r in results:
        merged.merge(r)
    return merged


def _process_main(queue, *args) -> None:
    queue.put(_threads_run(*args))


def run_load(base_url: str, mix: Sequence[Request], *, clients: int = 16, seconds: float = 10.0,
             warmup: float = 2.0, headers: dict[str, str] | None = None, processes: int = 1,
             timeout: float = 30.0, seed: int = 1) -> LoadResult:  # fmt: skip
    """Closed-loop load: `clients` concurrent clients, each with its own keep-alive connection, send
    requests picked at random (by weight) from `mix` for `warmup` + `seconds` seconds; only the
    requests started after the warm-up are recorded.

    The clients are threads, spread over `processes` forked processes (1: all in this process).
    Python's GIL serialises the clients of one process, which adds to the measured latency once
    one core is busy with client work; more processes remove that at the cost of more memory.
    """
    if clients < 1 or processes < 1:
        raise ValueError("clients and processes must be at least 1")
    processes = min(processes, clients)
    start = time.monotonic() + 0.2
    record_from = start + warmup
    stop_at = record_from + seconds
    headers = headers or {}
    if processes == 1:
        result = _threads_run(base_url, mix, headers, clients, stop_at, record_from, seed, timeout)
    else:
        # fork: the mix may hold closures, which a spawned process could not receive.
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        procs = [
            ctx.Process(target=_process_main,
                        args=(queue, base_url, mix, headers, n, stop_at, record_from, seed * 100 + i, timeout))
            for i, n in enumerate(shares)
        ]  # fmt: skip
        for p in procs:
            p.start()
        result = LoadResult()
        for _ in procs:
            result.merge(queue.get())
        for p in procs:
            p.join()
    result.seconds = seconds
    result.clients = clients
    return result


def format_table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """A plain text table with right-aligned numbers, for the benches' printed reports."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.1f}"
    return str(value)
