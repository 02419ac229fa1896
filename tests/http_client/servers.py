"""A tiny threaded raw-socket HTTP server for cases HTTP libraries will not produce."""

import ipaddress
import socket
import threading
from collections.abc import Callable

Handler = Callable[[socket.socket, "RawServer"], None]


class RawServer:
    """A threaded TCP server for what HTTP libraries will not produce (drips, truncation, raw bytes).

    Each connection gets one request: the raw bytes are recorded in `requests`, then `handler(conn,
    server)` writes whatever it wants. Handlers that loop wait on `stopped` so teardown ends them.
    """

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        self.handler = handler
        self.host = host
        self.requests: list[bytes] = []
        self.accepted = 0
        self.stopped = threading.Event()
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def url(self, path: str = "/", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{name}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                self.requests.append(read_request(conn))
                self.handler(conn, self)
            except OSError:
                pass

    def stop(self) -> None:
        self.stopped.set()
        self._accept_thread.join(timeout=2)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reply(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> Handler:
    """A handler that sends one complete response and closes."""

    def handler(conn: socket.socket, server: RawServer) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{n}: {v}" for n, v in headers), "Connection: close"]
        head = "\r\n".join(lines) + "\r\n\r\n"
        conn.sendall(head.encode("latin-1") + body)

    return handler
