"""Fixtures of the web page tests: built databases, TestClients, a live server and headless Chromium.

* ``real_db``: the project's own package (dataset/ of this repository, whose first record is
  pak-rus-2014-11-20), built into a temporary folder.
* ``xss_db``: the small synthetic base package of tests/fixtures plus one obviously synthetic
  record whose texts hold markup (a title with ``<script>alert(1)</script>``, a ``javascript:``
  source address...), for the escaping tests. It is never written into dataset/.
* ``html`` / ``xss_html``: TestClients that ask for HTML, as browsers do.
* ``live_real`` / ``live_xss``: the app served by uvicorn on a free 127.0.0.1 port, in a thread.
* ``browser``: headless Chromium driven by Selenium through Debian's chromedriver (Selenium
  Manager never downloads anything); skipped, with the reason, when either is missing
  (``bash scripts/install_browser.sh`` installs them; .ci/run does). Every request the browser
  makes to another host goes to ``outside``, a recording stub proxy, so the tests run offline
  and can see any third-party request.
"""
from __future__ import annotations

import csv
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.packages import make_package  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path(os.environ.get("DCA_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("DCA_CHROMEDRIVER", "/usr/bin/chromedriver"))
FIRST_RECORD = "pak-rus-2014-11-20"

XSS_ID = "dnk-swe-2020-01-02"
XSS_TITLE = "Synthetic <script>alert(1)</script> Test Agreement"
XSS_ROWS = {
    "agreements": [dict(
        agreement_id=XSS_ID, title=XSS_TITLE, agreement_type="other", instrument="other", signed_on="2020-01-02", signed_precision="day",
        venue_city="<b>Synthville</b>", venue_country_iso3="DNK", status="signed", status_as_of="2020-01-03",
        entry_into_force_on="", end_on="",
        summary='Synthetic test record: <img src=x onerror=alert(2)> & "quotes" & \'apostrophes\'.',
        notes="</p><script>alert(5)</script> Synthetic, for the escaping tests.")],
    "parties": [dict(agreement_id=XSS_ID, country_iso3="DNK", signatory_name="<i>Test Person</i>", signatory_title=""),
                dict(agreement_id=XSS_ID, country_iso3="SWE", signatory_name="", signatory_title="")],
    "sources": [
        dict(source_id=f"{XSS_ID}-s1", agreement_id=XSS_ID, url="javascript:alert(3)", citation="",
             title="<script>alert(4)</script> Synthetic source", publisher="Synthetic Press", author="",
             published_on="2020-01-03", source_type="news", supports="everything (synthetic)", reprint_of=""),
        dict(source_id=f"{XSS_ID}-s2", agreement_id=XSS_ID, url='https://example.org/synthetic/xss?a=1&b="x"',
             citation="", title="Synthetic source two", publisher="Example Org", author="",
             published_on="2020-01-04", source_type="official", supports="date", reprint_of=""),
    ],
    "equipment": [dict(equipment_id=f"{XSS_ID}-e1", agreement_id=XSS_ID, designation="<svg onload=alert(6)>",
                       category="other", supplier_iso3="DNK", recipient_iso3="SWE", quantity="", status="mentioned",
                       non_party_reason="", note="", source_id=f"{XSS_ID}-s1")],
    "status_history": [dict(history_id=f"{XSS_ID}-h1", agreement_id=XSS_ID, equipment_id="", status_on="2020-01-02",
                            agreement_status="signed", equipment_status="",
                            description="<script>alert(7)</script> signed", source_id=f"{XSS_ID}-s2")],
}


def _append(root: Path, table: str, rows: list[dict]) -> None:
    path = root / "dataset" / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, existing = reader.fieldnames, list(reader)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(existing + rows)


def _build(root: Path, out: Path) -> Path:
    from scripts.build import build_package

    return build_package(root, out).database


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    from tests.packages import copy_real_package

    root = copy_real_package(tmp_path_factory.mktemp("web-real") / "pkg")
    return _build(root, tmp_path_factory.mktemp("web-real-build") / "build")


@pytest.fixture(scope="session")
def xss_db(tmp_path_factory) -> Path:
    root = make_package(tmp_path_factory.mktemp("web-xss") / "pkg")
    for table, rows in XSS_ROWS.items():
        _append(root, table, rows)
    return _build(root, tmp_path_factory.mktemp("web-xss-build") / "build")


HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="session")
def html(real_db):
    with TestClient(create_app(Settings(sqlite_path=real_db)), headers=HTML) as c:
        yield c


@pytest.fixture(scope="session")
def xss_html(xss_db):
    with TestClient(create_app(Settings(sqlite_path=xss_db)), headers=HTML) as c:
        yield c


# --------------------------------------------------------------------------- live server

@dataclass
class LiveServer:
    url: str
    server: object
    thread: threading.Thread


def _serve(db: Path) -> LiveServer:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(Settings(sqlite_path=db)), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def _stop(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_real(real_db):
    live = _serve(real_db)
    yield live
    _stop(live)


@pytest.fixture(scope="session")
def live_xss(xss_db):
    live = _serve(xss_db)
    yield live
    _stop(live)


# --------------------------------------------------------------------------- the outside world

@dataclass
class Outside:
    """A stub HTTP proxy standing in for every other host: records each request line, answers a small page
    (or refuses a CONNECT), so that following an external link is seen without any network."""

    port: int = 0
    requests: list[str] = field(default_factory=list)
    _sock: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "Outside":
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="outside-proxy").start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                return
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            if not line:
                return
            with self._lock:
                self.requests.append(line)
            if line.startswith("CONNECT "):
                body = b""
                head = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            else:
                body = b"<!doctype html><title>outside</title><p>The stub for other hosts.</p>"
                head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            try:
                conn.sendall(head + body)
            except OSError:
                pass

    def seen(self) -> list[str]:
        with self._lock:
            return list(self.requests)

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()


@pytest.fixture(scope="session")
def outside():
    o = Outside().start()
    yield o
    o.stop()


# --------------------------------------------------------------------------- the browser

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--disable-default-apps", "--metrics-recording-only", "--mute-audio",
                  "--window-size=1280,900", "--lang=en-GB"]


def browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing: run `bash scripts/install_browser.sh` (Debian's chromium and chromium-driver)"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory, outside):
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    # Never let Selenium Manager look for (or download) a driver or a browser.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # Loopback (the app) is reached directly; any other host goes to the recording stub.
    opts.add_argument(f"--proxy-server=http://127.0.0.1:{outside.port}")
    # The performance log has every network request the page made (Network.requestWillBeSent).
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path_factory.mktemp("chromedriver") / "log"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(browser):
    """Save a full-page screenshot under build/screenshots/ (kept for review); returns the path."""

    def take(name: str, *, width: int | None = None, mobile: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if width:
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": mobile})
        try:
            metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
            import base64

            path.write_bytes(base64.b64decode(shot["data"]))
        finally:
            if width:
                browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    return take


@pytest.fixture(scope="session")
def browser_without_js(tmp_path_factory, outside):
    """Headless Chromium with JavaScript switched off, to show that the pages work without it."""
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-nojs')}")
    opts.add_argument(f"--proxy-server=http://127.0.0.1:{outside.port}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def requests_made(driver) -> list[str]:
    """The URLs of every request the browser sent since the last call (from its performance log, which this drains)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls
