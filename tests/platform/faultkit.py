"""Fault drills shared by the slow tests (tests/platform/test_fault_drills.py) and bench/fault_drills.py.

A drill runs against a real served instance: gunicorn started as an operator would, on a database
seeded by a `manage.py shell` child. Each drill returns its figures as a dict; the tests assert on
them and the bench prints them.
"""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass

from tests.platform.subproc import PYTHON, ROOT, manage

SEED = r"""
import datetime, json
from decimal import Decimal
from django.test import Client
from genxsop import context
from governance.choices import Role
from governance.services import user_create
from governance.services.users import api_token_create
from planning import services

with context.cli_context():
    admin = user_create(actor=None, email="admin@drill.test", full_name="Drill Admin", role=Role.ADMIN)
    planner = user_create(actor=None, email="planner@drill.test", full_name="Drill Planner", role=Role.DEMAND_PLANNER)
    category = services.category_create(actor=admin, name="Drill")
    product = services.product_create(actor=admin, data={"sku": "DRILL-1", "name": "Drill product",
                                                         "category": category})
    period = datetime.date.today().replace(day=1)
    plan = services.demand_plan_create(actor=planner, product=product,
                                       data={"period": period, "forecast_qty": Decimal("0")})
    _, token = api_token_create(actor=planner, user=planner, name="drill",
                                scopes=["planning:read", "planning:write"])
    _, admin_token = api_token_create(actor=admin, user=admin, name="drill-erp",
                                      scopes=["planning:read", "planning:write", "integrations:write"])
browser = Client()
browser.force_login(planner)
print("SEED=" + json.dumps({"plan_id": plan.pk, "token": token, "admin_token": admin_token,
                            "session": browser.cookies["sessionid"].value}))
"""


def seed(env: dict) -> dict:
    """Users, a product DRILL-1 with one draft demand plan at version 1, API tokens (the planner's and an
    admin's with integrations:write) and the planner's signed-in session."""
    proc = manage("shell", "-c", SEED, env=env, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.rsplit("SEED=", 1)[1].strip())


# HTTP -----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes
    seconds: float

    def json(self):
        return json.loads(self.body)


def http(url: str, *, method: str = "GET", headers: dict | None = None, body: dict | None = None,
         timeout: float = 30) -> Reply:  # fmt: skip
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310 (loopback)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback URL we built)
            return Reply(response.status, dict(response.headers), response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read(), time.perf_counter() - started)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def upload(url: str, *, headers: dict, filename: str, content: bytes, fields: dict) -> Reply:
    """A multipart/form-data POST with one file, as a browser or `curl -F` sends it."""
    boundary = f"----faultdrill{time.time_ns()}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=b"".join(parts), method="POST",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback URL we built)
            return Reply(response.status, dict(response.headers), response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read(), time.perf_counter() - started)


def console_get(url: str, session: str, timeout: float = 30) -> Reply:
    """A signed-in browser's GET, redirects not followed (a redirect to the login page is a failure)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})  # noqa: S310 (loopback)
    started = time.perf_counter()
    try:
        with opener.open(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, dict(exc.headers), exc.read(), time.perf_counter() - started)


# A served instance ------------------------------------------------------------------------


class Server:
    """gunicorn on the production entry point, one worker process, as `manage.py serve --gunicorn` runs it."""

    def __init__(self, *, env: dict, port: int, log_path, threads: int = 4, workers: int = 1):
        self.env, self.port, self.log_path = env, port, log_path
        self.threads, self.workers = threads, workers
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Server":
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our interpreter and gunicorn)
                [PYTHON, "-m", "gunicorn", "genxsop.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "60",
                 "--graceful-timeout", "5"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if http(f"{self.url}/health", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /health within {timeout} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        path = f"/proc/{self.proc.pid}/task/{self.proc.pid}/children"
        with open(path) as fh:
            return sorted(int(p) for p in fh.read().split())

    def log_tail(self, chars: int = 4000) -> str:
        try:
            with open(self.log_path) as fh:
                return fh.read()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@contextmanager
def served(**kwargs):
    server = Server(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


# Drill b: the database becomes unreachable, then comes back -------------------------------


def _error_code(reply: Reply) -> str | None:
    try:
        return reply.json()["detail"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def outage_drill(server: Server, seeded: dict, *, outages: dict, restore, recover_within: float = 30) -> dict:
    """Cut the database in each way of `outages` ({name: cut()}), probe, restore with `restore()`.

    For each outage: `/ready` status and seconds, an API read's status and error code, a console
    page's status and whether it carries the request id. After each restore: seconds until `/ready`
    answers 200 again, and the API and console statuses then. `same_workers` says whether the
    gunicorn workers that served before the outage are the ones serving after it (no restart).
    """
    api = f"{server.url}/api/v1/demand/plans/{seeded['plan_id']}"
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    figures = {"before": {"ready": http(f"{server.url}/ready").status, "api": http(api, headers=auth).status,
                          "console": console_get(f"{server.url}/", seeded["session"]).status}}  # fmt: skip
    workers_before = server.worker_pids()
    for name, cut in outages.items():
        cut()
        ready = http(f"{server.url}/ready", timeout=30)
        api_reply = http(api, headers=auth, timeout=30)
        page = console_get(f"{server.url}/demand/", seeded["session"], timeout=30)
        request_id = page.headers.get("X-Request-ID", "")
        outage = {
            "ready_status": ready.status,
            "ready_seconds": round(ready.seconds, 3),
            "ready_database_ok": ready.json()["checks"]["database"]["ok"] if ready.status in (200, 503) else None,
            "api_status": api_reply.status,
            "api_code": _error_code(api_reply),
            "api_retry_after": api_reply.headers.get("Retry-After"),
            "api_seconds": round(api_reply.seconds, 3),
            "console_status": page.status,
            "console_request_id_shown": bool(request_id) and request_id.encode() in page.body,
            "console_seconds": round(page.seconds, 3),
        }
        restore()
        started = time.perf_counter()
        deadline = started + recover_within
        while time.perf_counter() < deadline and http(f"{server.url}/ready", timeout=10).status != 200:
            time.sleep(0.2)
        outage["recovery_seconds"] = round(time.perf_counter() - started, 3)
        outage["after_ready"] = http(f"{server.url}/ready").status
        outage["after_api"] = http(api, headers=auth).status
        outage["after_console"] = console_get(f"{server.url}/demand/", seeded["session"]).status
        figures[name] = outage
    figures["same_workers"] = server.worker_pids() == workers_before
    return figures


# Drill c: many clients edit one plan at once -----------------------------------------------


def concurrent_edit_drill(server: Server, seeded: dict, *, clients: int, increments: int,
                          max_attempts: int = 200) -> dict:  # fmt: skip
    """`clients` threads each add 1 to the plan's forecast `increments` times by read-modify-write with
    If-Match; a 409 STALE_VERSION is answered by reading again and retrying. Every other answer counts
    as an error. The final row, its version history and its update audit rows are then read back."""
    url = f"{server.url}/api/v1/demand/plans/{seeded['plan_id']}"
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    counts = {"ok": 0, "stale": 0, "errors": 0, "gave_up": 0}
    lock = threading.Lock()
    error_samples: list[str] = []

    def client() -> None:
        for _ in range(increments):
            for _attempt in range(max_attempts):
                read = http(url, headers=auth)
                if read.status != 200:
                    with lock:
                        counts["errors"] += 1
                        error_samples.append(f"GET {read.status} {read.body[:200]!r}")
                    continue
                plan = read.json()
                value = int(float(plan["forecast_qty"])) + 1
                write = http(url, method="PATCH", body={"forecast_qty": str(value)},
                             headers={**auth, "If-Match": read.headers["ETag"]})  # fmt: skip
                if write.status == 200:
                    with lock:
                        counts["ok"] += 1
                    break
                with lock:
                    if write.status == 409 and _error_code(write) == "STALE_VERSION":
                        counts["stale"] += 1
                    else:
                        counts["errors"] += 1
                        error_samples.append(f"PATCH {write.status} {write.body[:200]!r}")
            else:
                with lock:
                    counts["gave_up"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, name=f"editor-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    final = http(url, headers=auth).json()
    versions = http(f"{url}/versions", headers=auth).json()
    return {
        **counts,
        "clients": clients,
        "seconds": round(seconds, 3),
        "final_qty": int(float(final["forecast_qty"])),
        "final_version": final["version"],
        "version_numbers": sorted(row["version"] for row in versions),
        "error_samples": error_samples[:5],
    }


AUDIT_COUNT = r"""
from governance.models import AuditEvent
print("AUDIT=%d" % AuditEvent.objects.filter(event_type="planning.demand_plan.updated", target_id="{plan_id}").count())
"""


def update_audit_rows(env: dict, plan_id: int) -> int:
    """The plan's `planning.demand_plan.updated` audit rows, counted by a fresh process."""
    proc = manage("shell", "-c", AUDIT_COUNT.replace("{plan_id}", str(int(plan_id))), env=env, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return int(proc.stdout.rsplit("AUDIT=", 1)[1].strip())
