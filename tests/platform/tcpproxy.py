"""A loopback TCP proxy that a fault drill can cut and restore, to play a database outage.

The app is pointed at the proxy instead of PostgreSQL. `cut("refuse")` drops every open
connection and closes the listening socket, as a stopped server or a failover does: new
connections are refused at once. `cut("blackhole")` drops the open connections too but keeps
accepting new ones without ever answering, as a hung server or a network partition does: clients
wait for their own timeouts. `restore()` forwards again on the same port.
"""

import contextlib
import socket
import threading

UP, REFUSE, BLACKHOLE = "up", "refuse", "blackhole"


def _reset(sock: socket.socket) -> None:
    """Drop the connection at once. `shutdown` first: a bare `close` would neither wake the pump thread
    blocked in `recv` on it nor tell the peer, so the database would keep the session open."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    def __init__(self, *, listen_port: int, target: tuple[str, int], host: str = "127.0.0.1"):
        self.host, self.listen_port, self.target = host, listen_port, target
        self.mode = UP
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stopped = False

    # Lifecycle -------------------------------------------------------------------

    def start(self) -> "TcpProxy":
        self._listen()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._close_listener()
        self._drop_all()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # Faults ------------------------------------------------------------------------

    def cut(self, mode: str) -> None:
        if mode not in (REFUSE, BLACKHOLE):
            raise ValueError(f"unknown outage mode {mode!r}")
        self.mode = mode
        if mode == REFUSE:
            self._close_listener()
        self._drop_all()

    def restore(self) -> None:
        self._drop_all()  # blackholed clients are still waiting: let them fail now
        self.mode = UP
        if self._listener is None:
            self._listen()

    # Internals -------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.listen_port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), name="tcpproxy-accept", daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                listener.close()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _drop_all(self) -> None:
        with self._lock:
            socks, self._open = self._open, set()
        for sock in socks:
            _reset(sock)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopped:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut("refuse") or stop()
            if self.mode == BLACKHOLE:
                self._track(client)  # accepted, never read, never answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            self._track(client, upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), name="tcpproxy-pump", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()
