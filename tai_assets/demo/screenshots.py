"""`python -m tai_assets.demo.screenshots [--url URL] [--out DIR]`: screenshots of a running tai UI.

Drives Debian's headless Chromium (`apt-get install chromium`) over the DevTools protocol
(a websocket; `websockets` is already installed with Dagster's webserver) through the pages a
newcomer opens first: the global lineage, the lineage around the player sessions, an ingest
asset, the weekly digest and a picture (the 28-day online heatmap, its Markdown opened as a
person would click it). Each page is waited for until the text it must show is there, then
saved as a PNG; its visible text is returned too, so a test can check what the page says
(`tai_assets_tests/test_demo.py`).
"""

import argparse
import base64
import contextlib
import itertools
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.sync.client import connect

from tai_assets.common.procfs import kill_groups, wait_for_groups

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
WIDTH, HEIGHT = 1600, 1000
# What the UI shows while a panel's data is still on its way ("Loading run logs…").
LOADING = "Loading"


@dataclass(frozen=True)
class Page:
    """A page to capture: its path, a text that shows it has loaded, the text of a link to
    click first (in the metadata row of `click_row`), if any, and the seconds to let it settle
    (a lineage graph lays itself out after its data is in)."""

    name: str
    path: str
    loaded_text: str
    click_row: str | None = None
    settle_seconds: float = 1.0


PAGES = (
    Page("lineage", "/asset-groups", "exports"),
    Page(
        "sessions_lineage",
        "/assets/player_sessions?view=lineage&lineageScope=neighbors&lineageDepth=1",
        "raw_server_polls",
        settle_seconds=4.0,
    ),
    Page("ingest_asset", "/assets/raw_server_polls", "rows_written"),
    Page("weekly_digest", "/assets/weekly_digest", "Пиковые часы"),
    Page("heatmap_picture", "/assets/online_heatmap_recent", "busiest_hours", "picture"),
)

# Where the "[Show Markdown]" link of the metadata row keyed by the given text is, as [x, y].
ROW_LINK_CENTRE = """
(() => {
  const row = [...document.querySelectorAll('tr')].find(
    r => r.cells.length && r.cells[0].innerText.trim() === %s);
  const link = row && [...row.querySelectorAll('a')].find(
    e => e.innerText.includes('Show Markdown'));
  if (!link) return null;
  const box = link.getBoundingClientRect();
  return [box.x + box.width / 2, box.y + box.height / 2];
})()
"""


def chromium() -> str | None:
    """Return the path of an installed Chromium, or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


class DevTools:
    """One Chromium tab, driven over the DevTools protocol."""

    def __init__(self, websocket_url: str):
        self.socket = connect(websocket_url, max_size=64 * 1024 * 1024)
        self.ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        """Send one command; return its result (events in between are skipped)."""
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        """Return the value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def click(self, x: float, y: float) -> None:
        """Press and release the left mouse button at (x, y), as a person clicks."""
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def text(self) -> str:
        """Return the page's visible text."""
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for_text(self, text: str, seconds: float) -> str:
        """Wait until the page shows `text` and has stopped saying it is loading something
        (a run page draws its header before its logs); return the page's text (whatever it is
        then)."""
        deadline = time.monotonic() + seconds
        while True:
            shown = self.text()
            if (text in shown and LOADING not in shown) or time.monotonic() > deadline:
                return shown
            time.sleep(0.5)


@contextlib.contextmanager
def browser_tab(browser: str) -> Iterator[DevTools]:
    """Yield a tab of a fresh headless Chromium (its own profile); stop it afterwards."""
    with tempfile.TemporaryDirectory(prefix="tai-chromium-") as profile:
        process = subprocess.Popen(
            [
                browser,
                "--headless=new",
                "--no-sandbox",  # root in a container: Chromium's sandbox needs user namespaces
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{HEIGHT}",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,  # its helper processes with it, to stop them all
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("headless Chromium did not start")
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(t for t in targets if t["type"] == "page")
            tab = DevTools(page["webSocketDebuggerUrl"])
            try:
                yield tab
            finally:
                tab.socket.close()
        finally:
            # Chromium's helpers outlive its main process for a moment and still write to the
            # profile: the folder is removed only once the whole group is gone.
            kill_groups([process.pid], signal.SIGTERM)
            process.wait(timeout=30)
            if not wait_for_groups([process.pid], 10):
                kill_groups([process.pid], signal.SIGKILL)
                wait_for_groups([process.pid], 10)


@dataclass(frozen=True)
class Seen:
    """What a captured page showed: its visible text and how many inline PNG pictures."""

    text: str
    pictures: int


def capture(tab: DevTools, base_url: str, page: Page, target: Path) -> Seen:
    """Open `page`, wait for it, click what it asks, save a PNG at `target`; return what the
    page showed."""
    tab.call("Page.navigate", url=base_url.rstrip("/") + page.path)
    shown = tab.wait_for_text(page.loaded_text, 90)
    if page.click_row is not None:
        centre = tab.evaluate(ROW_LINK_CENTRE % json.dumps(page.click_row))
        if centre:
            tab.click(*centre)
            time.sleep(1.5)
            shown = tab.text()
    time.sleep(page.settle_seconds)
    shown = tab.text()
    png = tab.call("Page.captureScreenshot", format="png")["data"]
    target.write_bytes(base64.b64decode(png))
    pictures = tab.evaluate("document.querySelectorAll('img[src^=\"data:image/png\"]').length")
    return Seen(shown, int(pictures or 0))


def take_all(base_url: str, out: Path, pages: tuple[Page, ...] = PAGES) -> dict[str, Seen]:
    """Save a screenshot of every page of `pages` (PAGES by default) under `out`
    (`<name>.png`); return what each page showed, by name."""
    browser = chromium()
    if browser is None:
        raise RuntimeError("no Chromium installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    with browser_tab(browser) as tab:
        tab.call("Page.enable")
        tab.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        return {page.name: capture(tab, base_url, page, out / f"{page.name}.png") for page in pages}


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots; print where they are; return 0."""
    parser = argparse.ArgumentParser(prog="python -m tai_assets.demo.screenshots")
    parser.add_argument("--url", default="http://127.0.0.1:3001", help="the UI (the demo's)")
    parser.add_argument("--out", type=Path, default=Path("data/demo/screenshots"))
    args = parser.parse_args(argv)
    for name in take_all(args.url, args.out):
        print(args.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
