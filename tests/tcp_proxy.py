"""A TCP proxy in front of a shared service that an outage test can cut or hang.

Outage tests never stop the shared PostgreSQL or Redis: they point a client at this proxy
(127.0.0.1, a free port) and break the proxy instead. ``cut()`` closes every connection and the
listening socket, so connecting is refused; ``hang()`` keeps the connections open but forwards
nothing (and accepts new ones that are never answered), as a stopped or overloaded server
does; ``restore()`` forwards again on the same port.
"""

import contextlib
import socket
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._serve(self._listener)

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- what a test does ---------------------------------------------------------------
    def cut(self) -> None:
        """Refuse new connections and drop the open ones (a server that is down)."""
        self._flowing.set()
        _close(self._listener)
        self._drop_all()

    def hang(self) -> None:
        """Forward nothing, in either direction, on old or new connections (a hung server)."""
        self._flowing.clear()

    def restore(self) -> None:
        """Forward again; after ``cut()`` listen again on the same port."""
        if self._listener.fileno() == -1:
            self._listener = socket.create_server(("127.0.0.1", self.port))
            self._serve(self._listener)
        else:
            # Connections held while hung are dropped: their clients gave up on them.
            self._drop_all()
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        _close(self._listener)
        self._drop_all()

    # --- plumbing -----------------------------------------------------------------------
    def _serve(self, listener: socket.socket) -> None:
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # the listener was closed
                return
            self._track(client)
            if not self._flowing.is_set():
                continue  # hung: accepted by the kernel, never answered
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._track(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                if self._closed:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                _close(sock)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
