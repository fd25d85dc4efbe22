"""End to end: `shadow-ai dashboard` as a real server on loopback, every page opened in headless Chromium
(Debian's, driven by Selenium with Debian's chromedriver), its key figures rendered, no error shown, and
no request leaving the machine. Screenshots go to test-artifacts/ (ignored by git) for a person to look at.

Runs in CI always (a missing browser fails there); elsewhere it skips when Chromium is not installed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_dashboard import build_lake

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1400,2400"]
# path -> (title, texts that must be rendered: metrics, table cells or chart labels). Figures are those of
# the constructed organisation in tests/test_dashboard.py, last 30 days.
PAGES = {
    "": ("Shadow AI: overview", ["People using AI", "14", "Share using AI", "76%", "Top services"]),
    "departments": ("AI use by department", ["Financien", "< 5", "ChatGPT", "DeepSeek Chat"]),
    "services": ("AI services in use", ["DeepL", "sanctioned", "novel-ai-writer.io", "Departments using it"]),
    "discovery": ("Discovery: possible AI services", ["novel-ai-writer.io", "maybe-ai-tool.com", "0.90"]),
    "data-health": ("Data health", ["sent nothing for more than 24 hours", "squid", "time not understood"]),
}


def _browser() -> None:
    """Fail in CI when the browser is missing (it must run there); skip elsewhere, saying why."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        message = f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _browser()
    home = build_lake(tmp_path_factory.mktemp("browser") / "home")
    port = _free_port()
    log = home.parent / "dashboard.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "detector", "--home", str(home), "dashboard", "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: streamlit and the wrapper, nothing else
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download a driver) never runs.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    try:
        yield driver
    finally:
        driver.quit()


def _page_text(driver: Any) -> str:
    """Visible text plus the data grid's cells (drawn on a canvas, mirrored in accessible cells)."""
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, '[data-testid^="glide-cell-"]')
    return driver.find_element(By.TAG_NAME, "body").text + "\n" + "\n".join(
        c.get_attribute("textContent") or "" for c in cells)


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_its_figures_without_errors(browser: Any, server: str, path: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    title, expected = PAGES[path]
    browser.get(server + path)
    try:
        WebDriverWait(browser, 120, poll_frequency=0.5).until(
            lambda d: all(text in _page_text(d) for text in [title, *expected])
            and not d.find_elements(By.CSS_SELECTOR, '[data-testid="stSkeleton"]'))
    except TimeoutException:
        browser.save_screenshot(str(ARTIFACTS / f"dashboard-{path or 'overview'}-failed.png"))
        text = _page_text(browser)
        pytest.fail(f"missing on /{path}: {[t for t in [title, *expected] if t not in text]}\n{text[:2000]}")
    browser.save_screenshot(str(ARTIFACTS / f"dashboard-{path or 'overview'}.png"))

    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
    text = _page_text(browser)
    assert "Traceback" not in text
    assert "10.20." not in text  # the organisation's client addresses
    log = browser.get_log("browser")
    crashed = [entry["message"] for entry in log if entry.get("source") == "javascript"]
    assert not crashed, f"the page's scripts failed (a chart did not render?): {crashed}"
    outside = [entry["message"] for entry in log if "http" in entry["message"] and not any(
        host in entry["message"] for host in ("http://127.0.0.1", "http://localhost"))]
    assert not outside, f"the page tried to reach another host: {outside}"
