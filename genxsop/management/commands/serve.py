"""`manage.py serve`: the web server and the job worker together in the foreground (OPS-61).

For a laptop and for small single-host installs. Larger deployments run `gunicorn genxsop.wsgi`
and `manage.py qcluster` as separate services instead; they share only the database.
"""

import contextlib
import ctypes
import os
import signal
import subprocess  # nosec B404  # starts our own web and worker processes, nothing else
import sys
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 20
POLL_SECONDS = 0.2


def _die_with_parent_hook():
    """A pre-exec hook that has the kernel SIGTERM the child if `serve` dies without cleaning up.

    Linux only (prctl); elsewhere None, and an orphaned child keeps running until stopped by hand.
    The symbol is looked up here, in the parent: the hook itself must do nothing but the syscall.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    stop_signal: int
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Command(BaseCommand):
    help = (
        "Run the web server (runserver, or gunicorn with --gunicorn) and the django-q2 job worker as child "
        "processes; Ctrl-C or SIGTERM stops both, and if either dies the other is stopped too."
    )
    requires_system_checks = []  # the children run their own checks; running them twice only slows startup

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
        parser.add_argument(
            "--workers", type=int, default=None,
            help="Job worker processes of the django-q2 cluster (default: Q_WORKERS, 2).",
        )  # fmt: skip
        parser.add_argument("--gunicorn", action="store_true", help="Serve with gunicorn instead of runserver.")
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes (default 2).")

    def handle(self, *args, host, port, workers, gunicorn, web_workers, **options):
        if settings.IS_PRODUCTION and not gunicorn:
            raise CommandError("runserver is a development server; use `serve --gunicorn` in production.")
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1.")
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._force = threading.Event()
        children = self._children(host=host, port=port, gunicorn=gunicorn, web_workers=web_workers)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if workers is not None:
            env["Q_WORKERS"] = str(workers)

        pre_exec = _die_with_parent_hook()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in children:
                child.process = subprocess.Popen(  # noqa: S603  (fixed argv: our interpreter and manage.py)  # nosec B603
                    child.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,  # Ctrl-C reaches `serve` only, which stops the children in order
                    preexec_fn=pre_exec,  # safe: no reader thread is running yet
                )
            for child in children:
                child.reader = threading.Thread(target=self._forward, args=(child,), daemon=True)
                child.reader.start()
            self._say(f"serving on http://{_bind(host, port)}/ (web pid {children[0].process.pid}, "
                      f"worker pid {children[1].process.pid}); Ctrl-C stops both")  # fmt: skip
            failed = self._watch(children)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if failed is not None:
            raise CommandError(f"{failed.name} exited with code {failed.process.returncode}; stopped the rest.")
        self._say("stopped")

    def _children(self, *, host: str, port: int, gunicorn: bool, web_workers: int) -> list[Child]:
        manage = str(settings.BASE_DIR / "manage.py")
        if gunicorn:
            web = Child(
                "web",
                [sys.executable, "-m", "gunicorn", "genxsop.wsgi:application", "--bind", _bind(host, port),
                 "--workers", str(web_workers), "--graceful-timeout", str(STOP_GRACE_SECONDS - 5)],
                signal.SIGTERM,
            )  # fmt: skip
        else:
            # runserver turns SIGINT into a clean exit(0); SIGTERM would kill it mid-request.
            web = Child("web", [sys.executable, manage, "runserver", _bind(host, port), "--noreload"], signal.SIGINT)
        worker = Child("worker", [sys.executable, manage, "qcluster"], signal.SIGTERM)
        return [web, worker]

    def _on_signal(self, signum, frame) -> None:
        if self._stop_requested.is_set():
            self._force.set()
        self._stop_requested.set()

    def _watch(self, children: list[Child]) -> Child | None:
        """Block until a stop is requested (None) or a child exits on its own (that child)."""
        while not self._stop_requested.wait(POLL_SECONDS):
            for child in children:
                if not child.running:
                    return child
        self._say("stopping (Ctrl-C again to kill)")
        return None

    def _stop(self, children: list[Child]) -> None:
        for child in children:
            if child.running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.process.pid, child.stop_signal)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(c.running for c in children) and time.monotonic() < deadline and not self._force.is_set():
            time.sleep(POLL_SECONDS)
        for child in children:
            if child.process is None:
                continue
            if child.running:
                self._say(f"{child.name} did not stop in time; killing it")
            # Each child leads its own process group: this also reaps what it forked and left behind
            # (gunicorn and qcluster workers).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
            if child.reader is not None:
                child.reader.join(timeout=2)

    def _forward(self, child: Child) -> None:
        for raw in iter(child.process.stdout.readline, b""):
            self._emit(f"{child.name:<6}| {raw.decode('utf-8', 'replace').rstrip()}")
        child.process.stdout.close()

    def _say(self, message: str) -> None:
        self._emit(f"{'serve':<6}| {message}")

    def _emit(self, line: str) -> None:
        with self._lock:
            self.stdout.write(line)
            self.stdout.flush()


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
