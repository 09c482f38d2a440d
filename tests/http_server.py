"""A tiny HTTP server on 127.0.0.1 (ephemeral port, background thread) for tests: routes map a path to a
handler function that writes the response itself."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """Routes (path -> handler), the requests seen, and a `stop` event slow handlers wait on."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        self.port = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, status: int = 200, body: bytes = b"", content_type: str = "text/plain",
              headers: dict[str, str] | None = None) -> None:
        """A fixed response at `path`."""

        def handler(h: BaseHTTPRequestHandler) -> None:
            send(h, status, body, content_type, headers)

        self.routes[path] = handler


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", content_type: str = "text/plain",
         headers: dict[str, str] | None = None) -> None:
    """Write a whole response."""
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _handler_class(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(self.path.split("?", 1)[0])
            try:
                if route is None:
                    send(self, 404, b"not found")
                else:
                    route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], state) -> Iterator[None]:
    """Serve `handler` on 127.0.0.1 (ephemeral port, set as `state.port`) for the duration of the block."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """Run a LocalServer for the duration of the block."""
    state = LocalServer()
    with serve(_handler_class(state), state):
        yield state
