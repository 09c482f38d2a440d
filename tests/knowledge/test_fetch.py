"""Safe URL fetching: what is fetched (HTML, markdown, PDF) and every refusal, against a real server on 127.0.0.1."""

from __future__ import annotations

import io
import socket

import pypdf
import pytest

from knowledge.config import Settings
from knowledge.errors import IngestError, UnsafeURLError
from knowledge.fetch import fetch_url
from tests.http_server import local_server

ARTICLE = b"""<!doctype html><html><head><title>Akash Leases Explained</title></head><body>
<nav><a href="/">Home</a> | <a href="/pricing">Pricing</a> | <a href="/blog">Blog</a></nav>
<article>
<h1>Akash Leases Explained</h1>
<p>A lease on Akash is created when a tenant accepts a provider's bid for a deployment order. The lease
records the price per block and escrow pays the provider continuously while the lease stays open.</p>
<h2>Closing a lease</h2>
<p>Either party can close the lease. When the escrow account runs dry the lease is closed automatically and
the provider stops the workload; unspent deposit is returned to the tenant's wallet.</p>
<p>Providers bid in uakt or in USDC, and the marketplace settles every lease on chain through escrow.</p>
</article>
<footer>Copyright 2024 Example Corp. All rights reserved. Cookie settings.</footer>
</body></html>"""


def _settings(**overrides) -> Settings:
    values = dict(db_path=":memory:", allow_loopback_urls=True, url_timeout_s=5.0, url_max_redirects=3,
                  max_url_mb=1.0)
    values.update(overrides)
    return Settings(**values)


def _tiny_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.fixture
def server():
    with local_server() as srv:
        yield srv


@pytest.fixture
def fake_dns(monkeypatch):
    """Map made-up host names to addresses without touching real DNS; counts lookups per name."""
    real = socket.getaddrinfo
    table: dict[str, list[str]] = {}
    calls: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            calls[host] = calls.get(host, 0) + 1
            answers = table[host]
            addr = answers[min(calls[host], len(answers)) - 1]
            family = socket.AF_INET6 if ":" in addr else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (addr, port))]
        if str(host).endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "unknown test host")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table, calls


# -- what is fetched -------------------------------------------------------------------------------
def test_html_is_reduced_to_main_text_with_title(server):
    server.route("/docs/leases", body=ARTICLE, content_type="text/html; charset=utf-8")
    doc = fetch_url(server.url("/docs/leases"), _settings())
    assert doc.url == server.url("/docs/leases")
    assert doc.content_type == "text/html"
    assert doc.title == "Akash Leases Explained"
    assert "escrow pays the provider continuously" in doc.text
    assert "## Closing a lease" in doc.text  # headings kept as markdown
    assert "Cookie settings" not in doc.text and "Pricing" not in doc.text
    assert doc.data == ARTICLE


def test_markdown_is_decoded_and_titled_from_the_path(server):
    body = "# Render network\n\nRNP-019 moved **RENDER** payouts to Solana — naïve text survives.\n".encode()
    server.route("/notes/render-rnp.md", body=body, content_type="text/markdown; charset=utf-8")
    doc = fetch_url(server.url("/notes/render-rnp.md"), _settings())
    assert doc.text == body.decode("utf-8")
    assert doc.content_type == "text/markdown"
    assert doc.title == "render-rnp.md"


def test_plain_text_with_declared_charset(server):
    server.route("/a.txt", body="café".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1")
    assert fetch_url(server.url("/a.txt"), _settings()).text == "café"


def test_pdf_bytes_are_returned_for_the_parser(server):
    pdf = _tiny_pdf()
    server.route("/whitepaper.pdf", body=pdf, content_type="application/pdf")
    doc = fetch_url(server.url("/whitepaper.pdf"), _settings())
    assert doc.content_type == "application/pdf"
    assert doc.text == ""
    assert doc.data == pdf
    assert len(pypdf.PdfReader(io.BytesIO(doc.data)).pages) == 1
    assert doc.title == "whitepaper.pdf"


def test_redirects_within_the_limit_are_followed_and_final_url_reported(server):
    server.route("/old", status=301, headers={"Location": "/mid"})
    server.route("/mid", status=302, headers={"Location": server.url("/new.txt")})
    server.route("/new.txt", body=b"moved here")
    doc = fetch_url(server.url("/old"), _settings(url_max_redirects=2))
    assert doc.url == server.url("/new.txt")
    assert doc.text == "moved here"


def test_connection_is_pinned_to_the_checked_address(server, fake_dns):
    """A name is resolved once and checked; the connection goes to that address, so a second (rebinding)
    answer pointing at the metadata address is never used. The Host header keeps the name."""
    table, calls = fake_dns
    table["docs.example"] = ["127.0.0.1", "169.254.169.254"]
    server.route("/page.txt", body=b"pinned")
    doc = fetch_url(f"http://docs.example:{server.port}/page.txt", _settings())
    assert doc.text == "pinned"
    assert calls["docs.example"] == 1
    assert server.seen[-1][1]["host"] == f"docs.example:{server.port}"


def test_proxy_environment_is_ignored(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    server.route("/x.txt", body=b"direct")
    assert fetch_url(server.url("/x.txt"), _settings()).text == "direct"


# -- refusals: where the URL points ----------------------------------------------------------------
UNSAFE_URLS = [
    pytest.param("ftp://example.com/file.txt", "only http and https", id="ftp"),
    pytest.param("file:///etc/passwd", "only http and https", id="file"),
    pytest.param("javascript:alert(1)", "only http and https", id="javascript"),
    pytest.param("gopher://127.0.0.1:70/", "only http and https", id="gopher"),
    pytest.param("http://user:secret@example.com/", "credentials", id="credentials"),
    pytest.param("http://:@example.com/", "credentials", id="empty-credentials"),
    pytest.param("http:///nohost", "no host", id="no-host"),
    pytest.param("http://10.0.0.5/", "private address", id="private-10"),
    pytest.param("http://192.168.1.1/", "private address", id="private-192.168"),
    pytest.param("http://172.16.0.1/", "private address", id="private-172.16"),
    pytest.param("http://100.64.0.1/", "private address", id="shared-100.64"),
    pytest.param("http://169.254.169.254/latest/meta-data/", "cloud metadata", id="metadata-v4"),
    pytest.param("http://[fd00:ec2::254]/", "cloud metadata", id="metadata-v6"),
    pytest.param("http://169.254.10.10/", "link-local", id="link-local"),
    pytest.param("http://[fe80::1]/", "link-local", id="link-local-v6"),
    pytest.param("http://0.0.0.0/", "unspecified", id="zero"),
    pytest.param("http://0.1.2.3/", "address 0.1.2.3", id="this-network-0/8"),
    pytest.param("http://224.0.0.1/", "multicast", id="multicast"),
    pytest.param("http://[ff02::1]/", "multicast", id="multicast-v6"),
    pytest.param("http://240.0.0.1/", "240.0.0.1", id="reserved"),
    pytest.param("http://[::ffff:10.0.0.1]/", "private address", id="mapped-private"),
    pytest.param("http://[::ffff:169.254.169.254]/", "cloud metadata", id="mapped-metadata"),
]


@pytest.mark.parametrize("url, reason", UNSAFE_URLS)
def test_unsafe_urls_are_refused(url, reason):
    with pytest.raises(UnsafeURLError) as err:
        fetch_url(url, _settings())
    assert reason in err.value.reason
    assert "secret" not in str(err.value)
    assert "\n" not in str(err.value)


LOOPBACK_URLS = [
    pytest.param("http://127.0.0.1/", id="127.0.0.1"),
    pytest.param("http://127.8.9.10/", id="127/8"),
    pytest.param("http://localhost/", id="localhost"),
    pytest.param("http://[::1]/", id="ipv6-loopback"),
    pytest.param("http://[::ffff:127.0.0.1]/", id="ipv4-mapped-loopback"),
    pytest.param("http://2130706433/", id="decimal-loopback"),
]


@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_loopback_is_refused_unless_allowed(url):
    with pytest.raises(UnsafeURLError) as err:
        fetch_url(url, _settings(allow_loopback_urls=False))
    assert "loopback address" in err.value.reason


def test_allowing_loopback_allows_nothing_else():
    with pytest.raises(UnsafeURLError, match="private address"):
        fetch_url("http://10.0.0.5/", _settings(allow_loopback_urls=True))


def test_a_name_resolving_to_a_private_address_is_refused(fake_dns):
    table, _ = fake_dns
    table["intranet.example"] = ["192.168.0.10"]
    with pytest.raises(UnsafeURLError, match="intranet.example resolves to private address 192.168.0.10"):
        fetch_url("https://intranet.example/wiki", _settings())


def test_every_resolved_address_is_checked(monkeypatch):
    """One public and one private answer: refused, not connected to the public one."""
    real = socket.getaddrinfo

    def two_answers(host, port, *args, **kwargs):
        if host == "mixed.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.1.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(UnsafeURLError, match="10.1.1.1"):
        fetch_url("http://mixed.example/", _settings())


def test_an_unresolvable_name_is_a_clear_error(fake_dns):
    with pytest.raises(IngestError, match="cannot resolve host 'nowhere.example'"):
        fetch_url("http://nowhere.example/", _settings())


# -- refusals: redirect hops -----------------------------------------------------------------------
@pytest.mark.parametrize("location, reason", [
    pytest.param("http://169.254.169.254/latest/meta-data/", "cloud metadata", id="to-metadata"),
    pytest.param("http://10.0.0.7/admin", "private address", id="to-private"),
    pytest.param("file:///etc/passwd", "only http and https", id="to-file"),
])
def test_a_redirect_to_an_unsafe_address_is_refused_at_the_hop(server, location, reason):
    server.route("/start", status=302, headers={"Location": location})
    with pytest.raises(UnsafeURLError) as err:
        fetch_url(server.url("/start"), _settings())
    assert err.value.reason.startswith("redirect to ")
    assert reason in err.value.reason


def test_a_redirect_to_loopback_is_refused_when_loopback_is_not_allowed(fake_dns, server, monkeypatch):
    """The first hop is a (pretend) public name that really lands on the test server, so the only thing that
    can refuse is the check on the redirect's address."""
    import knowledge.fetch as fetch

    table, _ = fake_dns
    table["public.example"] = ["93.184.216.34"]
    real_pin = fetch.pinned_request
    monkeypatch.setattr(fetch, "pinned_request",
                        lambda client, target, addr: real_pin(
                            client, target, fetch.ipaddress.ip_address("127.0.0.1")
                            if target.host == "public.example" else addr))
    server.route("/go", status=307, headers={"Location": server.url("/inside")})
    server.route("/inside", body=b"never")
    with pytest.raises(UnsafeURLError, match="redirect to .*loopback address 127.0.0.1"):
        fetch_url(f"http://public.example:{server.port}/go", _settings(allow_loopback_urls=False))
    assert [path for path, _ in server.seen] == ["/go"]


def test_too_many_redirects_are_refused(server):
    for i in range(5):
        server.route(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    server.route("/r5", body=b"end")
    with pytest.raises(IngestError, match="more than 3 redirects"):
        fetch_url(server.url("/r0"), _settings(url_max_redirects=3))
    assert len(server.seen) == 4


def test_a_redirect_loop_stops_at_the_limit(server):
    server.route("/loop", status=302, headers={"Location": "/loop"})
    with pytest.raises(IngestError, match="more than 3 redirects"):
        fetch_url(server.url("/loop"), _settings(url_max_redirects=3))


# -- refusals: what comes back ---------------------------------------------------------------------
def test_an_oversized_body_is_refused_by_its_declared_length(server):
    server.route("/big.txt", body=b"x" * (1024 * 1024 + 10))
    with pytest.raises(IngestError, match="larger than 1 MB"):
        fetch_url(server.url("/big.txt"), _settings(max_url_mb=1.0))


def test_an_oversized_body_without_a_length_is_cut_off_while_streaming(server):
    def chunked(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, no Content-Length
            h.wfile.write(b"y" * 65536)

    server.routes["/stream.txt"] = chunked
    with pytest.raises(IngestError, match="larger than 1 MB"):
        fetch_url(server.url("/stream.txt"), _settings(max_url_mb=1.0))


def test_a_server_slow_to_answer_times_out(server):
    def slow(h):
        server.stop.wait(10)

    server.routes["/slow"] = slow
    with pytest.raises(IngestError, match=r"timed out after 0.3 s"):
        fetch_url(server.url("/slow"), _settings(url_timeout_s=0.3))


def test_a_server_trickling_its_body_times_out_overall(server):
    """Each byte arrives well inside the per-read timeout; the overall budget still ends the download."""
    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            if server.stop.wait(0.05):
                return
            h.wfile.write(b"z")
            h.wfile.flush()

    server.routes["/trickle"] = trickle
    with pytest.raises(IngestError, match="timed out after 0.4 s"):
        fetch_url(server.url("/trickle"), _settings(url_timeout_s=0.4))


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", "application/json", ""])
def test_disallowed_content_types_are_refused(server, content_type):
    server.route("/thing", body=b"\x89PNG....", content_type=content_type)
    with pytest.raises(IngestError, match="unsupported content type") as err:
        fetch_url(server.url("/thing"), _settings())
    assert (content_type or "(none)") in err.value.reason


@pytest.mark.parametrize("status", [404, 500, 403])
def test_non_2xx_is_refused_with_the_status(server, status):
    server.route("/missing", status=status, body=b"<h1>nope</h1>", content_type="text/html")
    with pytest.raises(IngestError) as err:
        fetch_url(server.url("/missing"), _settings())
    assert err.value.reason == f"HTTP {status}"


def test_an_empty_body_is_refused(server):
    server.route("/empty.txt", body=b"")
    with pytest.raises(IngestError, match="empty response"):
        fetch_url(server.url("/empty.txt"), _settings())


def test_https_requests_connect_to_the_checked_ip_with_the_name_as_host_and_sni():
    """No TLS server here, so the pinned request itself is checked: IP in the URL, the name in Host and SNI."""
    import ipaddress

    import httpx

    from knowledge.fetch import _Target, pinned_request

    target = _Target("https://docs.example:8443/a?b=1", "https", "docs.example", 8443, ())
    with httpx.Client() as client:
        request = pinned_request(client, target, ipaddress.ip_address("2606:4700::1"))
    assert str(request.url) == "https://[2606:4700::1]:8443/a?b=1"
    assert request.headers["host"] == "docs.example:8443"
    assert request.extensions["sni_hostname"] == "docs.example"
