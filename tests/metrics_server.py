"""A fake of the public metrics APIs on 127.0.0.1 (ephemeral port, background thread), serving the
fixtures in tests/fixtures/metrics. Each path can be told to answer, per request in turn:
"ok", "429" (with Retry-After), "503", "500", "slow" (sleep past the client's timeout), "malformed"
(broken JSON) or "shape" (valid JSON of the wrong shape). Requests are counted per path.
Dune (`/api/v1/query/<id>/results`, needs the X-Dune-API-Key header) answers `dune_result(id)`, or
`server.dune_bodies[id]` when a test sets one."""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.http_server import serve

FIXTURES = Path(__file__).parent / "fixtures" / "metrics"


def fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class MetricsServer:
    """State shared with the handler: scripted modes per path, request counts and headers seen."""

    def __init__(self) -> None:
        self.port = 0
        self.modes: dict[str, deque[str]] = defaultdict(deque)
        self.default_mode: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.retry_after = "1"
        self.slow_s = 1.0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.dune_bodies: dict[int, object] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_urls(self) -> str:
        """The `metrics_base_urls` setting that points every source here."""
        return ",".join(f"{name}={self.base}" for name in ("coingecko", "akash_console", "defillama", "taostats",
                                                                  "dune"))

    def script(self, path: str, *modes: str, then: str | None = None) -> None:
        """Answer the next requests to `path` with `modes` in turn, then `then` (default: keep as is)."""
        with self.lock:
            self.modes[path].extend(modes)
            if then is not None:
                self.default_mode[path] = then

    def down(self, path: str = "*", mode: str = "500") -> None:
        """Every later request to `path` ('*' for all) answers `mode`."""
        with self.lock:
            self.default_mode[path] = mode

    def total(self) -> int:
        return sum(self.counts.values())

    def _mode(self, path: str) -> str:
        with self.lock:
            self.counts[path] += 1
            if self.modes[path]:
                return self.modes[path].popleft()
            return self.default_mode.get(path, self.default_mode.get("*", "ok"))


def dune_result(query_id: int) -> dict[str, object]:
    """A completed Dune execution as GET /api/v1/query/{id}/results returns it (latest row first)."""
    return {
        "execution_id": f"01JFAKE{query_id}",
        "query_id": query_id,
        "is_execution_finished": True,
        "state": "QUERY_STATE_COMPLETED",
        "submitted_at": "2026-11-24T06:00:00.000000Z",
        "execution_started_at": "2026-11-24T06:00:01.000000Z",
        "execution_ended_at": "2026-11-24T06:00:09.123456Z",
        "result": {
            "rows": [{"day": "2026-11-24", "burned_usd": 1234567.5, "burned_render": 250000.25},
                     {"day": "2026-10-25", "burned_usd": 999.0, "burned_render": 200.0}],
            "metadata": {"column_names": ["day", "burned_usd", "burned_render"],
                         "column_types": ["varchar", "double", "double"], "row_count": 2,
                         "result_set_bytes": 120, "total_row_count": 2, "datapoint_count": 6,
                         "pending_time_millis": 10, "execution_time_millis": 8000},
        },
    }


def _body(path: str, query: dict[str, list[str]], headers: dict[str, str],
          server: "MetricsServer | None" = None) -> tuple[int, object]:
    """The fixture for a request, or (404, ...)."""
    ids = (query.get("ids") or [""])[0].split(",")
    if path == "/coins/markets":
        return 200, [row for row in fixture("coingecko_markets.json") if row["id"] in ids]
    if path == "/simple/price":
        data = fixture("coingecko_simple_price.json")
        return 200, {k: v for k, v in data.items() if k in ids}
    if path.startswith("/coins/") and path.endswith("/market_chart"):
        name = f"coingecko_market_chart_{path.split('/')[2]}.json"
        return (200, fixture(name)) if (FIXTURES / name).exists() else (404, {"error": "coin not found"})
    if path == "/v1/dashboard-data":
        return 200, fixture("akash_dashboard.json")
    if path.startswith("/v1/graph-data/"):
        name = f"akash_graph_{path.rsplit('/', 1)[1]}.json"
        return (200, fixture(name)) if (FIXTURES / name).exists() else (404, {"error": "not found"})
    if path.startswith("/summary/fees/"):
        name = f"defillama_{path.rsplit('/', 1)[1]}_{(query.get('dataType') or ['dailyFees'])[0]}.json"
        return (200, fixture(name)) if (FIXTURES / name).exists() else (404, {"message": "protocol not found"})
    if path == "/api/stats/latest/v1":
        if not headers.get("authorization"):
            return 401, {"message": "unauthorized"}
        return 200, fixture("taostats_stats_latest.json")
    parts = path.strip("/").split("/")
    if len(parts) == 5 and parts[:3] == ["api", "v1", "query"] and parts[4] == "results" and parts[3].isdigit():
        if not headers.get("x-dune-api-key"):
            return 401, {"error": "invalid API Key"}
        qid = int(parts[3])
        if server is not None and qid in server.dune_bodies:
            return 200, server.dune_bodies[qid]
        return 200, dune_result(qid)
    return 404, {"error": "not found"}


def _handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.headers.append({"path": parts.path, **headers})
            mode = server._mode(parts.path)
            status, body = _body(parts.path, parse_qs(parts.query), headers, server)
            extra: dict[str, str] = {}
            raw = json.dumps(body).encode()
            if mode in {"429", "503"}:
                status, raw, extra = int(mode), b'{"status": {"error_code": 429}}', {"Retry-After": server.retry_after}
            elif mode == "500":
                status, raw = 500, b'{"error": "internal"}'
            elif mode == "slow":
                server.stop.wait(server.slow_s)
            elif mode == "malformed":
                raw = raw[: max(1, len(raw) // 2)]  # truncated JSON
            elif mode == "shape":
                raw = json.dumps({"status": "ok", "data": None} if isinstance(body, list) else [1, 2, 3]).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def metrics_server() -> Iterator[MetricsServer]:
    """Run a MetricsServer for the duration of the block."""
    state = MetricsServer()
    with serve(_handler(state), state):
        yield state
