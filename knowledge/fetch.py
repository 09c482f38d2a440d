"""Safe URL fetching for ingestion: http(s) only, every hop's resolved address checked (SSRF), the connection
pinned to the checked address (no DNS rebinding), redirects followed by hand, and size, time and content
type bounded. HTML is reduced to its main text with trafilatura.

Every refusal raises `UnsafeURLError` (where the URL points) or `IngestError` (what came back), each with one
short line meant for a person.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from knowledge.config import Settings
from knowledge.errors import IngestError, UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown", "application/pdf"}
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "compute-desk/0.1 (knowledge ingestion)"

# Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, ECS task metadata, Alibaba).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
# Ranges the `is_*` properties do not all cover on every Python version.
_BLOCKED_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "fc00::/7", "fe80::/10")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass
class FetchedDocument:
    """What a URL returned: final URL, media type, raw bytes, readable text (empty for PDF) and a title."""

    url: str
    content_type: str
    data: bytes
    text: str
    title: str


# -- address checks --------------------------------------------------------------------------------
def _embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden inside an IPv6 one (mapped, NAT64, 6to4, Teredo), if any."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def address_problem(addr: IPAddress, allow_loopback: bool = False) -> str | None:
    """Why `addr` must not be fetched from (a short phrase), or None when it is a public address."""
    inner = _embedded_ipv4(addr)
    if inner is not None:
        return address_problem(inner, allow_loopback)
    if addr.is_loopback:
        return None if allow_loopback else "loopback address"
    if addr in _METADATA:
        return "cloud metadata address"
    checks = (
        ("is_unspecified", "unspecified address"),
        ("is_link_local", "link-local address"),
        ("is_multicast", "multicast address"),
        ("is_private", "private address"),
        ("is_reserved", "reserved address"),
    )
    for attr, phrase in checks:
        if getattr(addr, attr):
            return phrase
    if any(addr in net for net in _BLOCKED_NETS if net.version == addr.version):
        return "private address"
    if not addr.is_global:
        return "non-public address"
    return None


@dataclass(frozen=True)
class _Target:
    """One checked hop: the URL as given, its host, port and the addresses it may connect to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (raises OSError when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if addr not in seen:
            seen.append(addr)
    return seen


def check_url(url: str, settings: Settings, source: str | None = None, redirect: bool = False) -> _Target:
    """Parse and vet one URL (scheme, credentials, every resolved address); raises UnsafeURLError."""
    source = source or redact(url)
    prefix = f"redirect to {_short(redact(url))}: " if redirect else ""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURLError(source, prefix + "not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(source, prefix + f"only http and https URLs can be fetched (not {scheme or 'none'!r})")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURLError(source, prefix + "URLs with credentials are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError(source, prefix + "the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        raise IngestError(source, prefix + f"cannot resolve host {host!r}") from None
    if not addresses:
        raise IngestError(source, prefix + f"cannot resolve host {host!r}")
    for addr in addresses:
        problem = address_problem(addr, settings.allow_loopback_urls)
        if problem:
            where = f"{problem} {addr}" if _is_literal(host) else f"{host} resolves to {problem} {addr}"
            raise UnsafeURLError(source, prefix + f"refused: {where}")
    return _Target(url.strip(), scheme, host, port, tuple(addresses))


def _is_literal(host: str) -> bool:
    """Whether `host` is an IP address written out (not a name)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def redact(url: str) -> str:
    """The URL with any user:password@ part removed (it must never reach a message or a log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@", 1)[-1] if "@" in url else url
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def _short(url: str) -> str:
    """A URL cut to a readable length for messages."""
    return url if len(url) <= 80 else url[:77] + "..."


# -- requests pinned to a checked address ----------------------------------------------------------
def pinned_request(client: httpx.Client, target: _Target, addr: IPAddress) -> httpx.Request:
    """A GET for `target` that connects to `addr` itself while keeping the Host header and TLS SNI."""
    url = httpx.URL(target.url)
    ip_host = str(addr)
    default = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default else f"{_host_for_header(target.host)}:{target.port}"
    request = client.build_request(
        "GET",
        url.copy_with(host=ip_host, port=target.port),
        headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": ", ".join(sorted(ALLOWED_TYPES))},
    )
    if target.scheme == "https":
        request.extensions["sni_hostname"] = target.host
    return request


def _host_for_header(host: str) -> str:
    """Bracket an IPv6 literal for a Host header."""
    return f"[{host}]" if ":" in host else host


class _Deadline:
    """The fetch's overall time budget."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


@contextmanager
def _watchdog(response: httpx.Response, deadline: _Deadline) -> Iterator[None]:
    """Shut the response's socket down at the deadline so a blocked read returns at once."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None

    def _cut() -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    timer = threading.Timer(max(deadline.remaining(), 0), _cut) if sock is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def _send(client: httpx.Client, target: _Target, deadline: _Deadline, source: str) -> httpx.Response:
    """Send the GET to the first checked address that accepts a connection."""
    timed_out = IngestError(source, f"timed out after {deadline.seconds:g} s")
    for addr in target.addresses:
        if deadline.expired():
            raise timed_out
        request = pinned_request(client, target, addr)
        request.extensions["timeout"] = httpx.Timeout(deadline.remaining()).as_dict()
        try:
            return client.send(request, stream=True, follow_redirects=False)
        except httpx.TimeoutException:
            raise timed_out from None
        except httpx.ConnectError:
            continue
        except httpx.HTTPError as exc:
            raise IngestError(source, f"request failed ({type(exc).__name__})") from None
    raise IngestError(source, f"cannot connect to {target.host}")


# -- body, type and size ---------------------------------------------------------------------------
def _media_type(response: httpx.Response) -> tuple[str, str]:
    """The response's media type (lower case, no parameters) and its charset, if any."""
    msg = Message()
    msg["content-type"] = response.headers.get("content-type", "")
    media = msg.get_content_type() if response.headers.get("content-type") else ""
    return media.lower(), (msg.get_param("charset") or "") if media else ""


def _read_body(response: httpx.Response, settings: Settings, deadline: _Deadline, source: str) -> bytes:
    """The body, stopping past `max_url_mb` or at the deadline."""
    limit = int(settings.max_url_mb * 1024 * 1024)
    too_big = IngestError(source, f"larger than {settings.max_url_mb:g} MB")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        with _watchdog(response, deadline):
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise too_big
                if deadline.expired():
                    break
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        if not deadline.expired():
            raise IngestError(source, f"download failed ({type(exc).__name__})") from None
    if deadline.expired():
        raise IngestError(source, f"timed out after {deadline.seconds:g} s")
    return b"".join(chunks)


# -- text and title --------------------------------------------------------------------------------
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _decode(data: bytes, charset: str) -> str:
    """Bytes to text with the declared charset, else UTF-8 (BOM stripped), replacing what will not decode."""
    try:
        return data.decode(charset or "utf-8-sig", errors="replace")
    except LookupError:
        return data.decode("utf-8-sig", errors="replace")


def html_main_text(html: str) -> str:
    """The main text of an HTML page (markdown headings kept where trafilatura can), else its plain text."""
    import trafilatura

    text = trafilatura.extract(html, output_format="markdown", include_tables=True, include_comments=False)
    if not text:
        text = trafilatura.extract(html, include_tables=True, include_comments=False, favor_recall=True)
    if not text:
        text = trafilatura.html2txt(html)
    return (text or "").strip()


def html_title(html: str) -> str:
    """The page title from trafilatura's metadata, else the <title> element."""
    import html as html_lib

    import trafilatura

    try:
        meta = trafilatura.extract_metadata(html)
    except Exception:  # noqa: BLE001 - metadata is a nicety; fall back to <title>
        meta = None
    title = (getattr(meta, "title", None) or "").strip()
    if not title:
        match = _TITLE_RE.search(html)
        title = html_lib.unescape(re.sub(r"\s+", " ", match.group(1))).strip() if match else ""
    return title


def _path_title(url: str) -> str:
    """The last non-empty path segment of a URL, else its host."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return unquote(segments[-1]) if segments else (parts.hostname or url)


def _document(url: str, media: str, charset: str, data: bytes) -> FetchedDocument:
    """Turn a fetched body into a FetchedDocument."""
    if media == "application/pdf":
        return FetchedDocument(url, media, data, "", _path_title(url))
    text = _decode(data, charset)
    if media in HTML_TYPES:
        title = html_title(text) or _path_title(url)
        return FetchedDocument(url, media, data, html_main_text(text), title)
    return FetchedDocument(url, media, data, text, _path_title(url))


# -- the fetch -------------------------------------------------------------------------------------
def _client() -> httpx.Client:
    """A client that ignores proxy environment variables and never follows redirects by itself."""
    return httpx.Client(trust_env=False, follow_redirects=False, verify=True, http2=False)


def _next_hop(response: httpx.Response, current: str, hops: int, settings: Settings, source: str) -> str:
    """The URL a redirect points to (bounded by `url_max_redirects`)."""
    location = response.headers.get("location", "").strip()
    if not location:
        raise IngestError(source, f"HTTP {response.status_code} redirect without a Location")
    if hops >= settings.url_max_redirects:
        raise IngestError(source, f"more than {settings.url_max_redirects} redirects")
    return urljoin(current, location)


def fetch_url(url: str, settings: Settings) -> FetchedDocument:
    """Fetch one http(s) URL safely (see the module docstring); raises UnsafeURLError or IngestError."""
    deadline = _Deadline(settings.url_timeout_s)
    source = redact(url.strip())
    current, hops = url.strip(), 0
    with _client() as client:
        while True:
            target = check_url(current, settings, source=source, redirect=hops > 0)
            response = _send(client, target, deadline, source)
            try:
                if response.status_code in REDIRECT_CODES:
                    current = _next_hop(response, current, hops, settings, source)
                    hops += 1
                    client.cookies.clear()
                    continue
                return _finish(response, current, settings, deadline, source)
            finally:
                response.close()


def _finish(response: httpx.Response, final_url: str, settings: Settings, deadline: _Deadline,
            source: str) -> FetchedDocument:
    """Check status and content type, read the body and build the document."""
    if not 200 <= response.status_code < 300:
        raise IngestError(source, f"HTTP {response.status_code}")
    media, charset = _media_type(response)
    if media not in ALLOWED_TYPES:
        raise IngestError(
            source, f"unsupported content type {media or '(none)'!r} (HTML, text, markdown or PDF only)"
        )
    data = _read_body(response, settings, deadline, source)
    if not data.strip():
        raise IngestError(source, "empty response")
    return _document(final_url, media, charset, data)
