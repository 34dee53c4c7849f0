"""Crawl progress: pages done out of the (moving) total, rate and ETA."""

from __future__ import annotations

import time
from dataclasses import dataclass


def format_duration(seconds: float | None) -> str:
    """Return seconds as a short human duration ("2h 05m", "4m 10s", "12s"), "?" if unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Progress:
    """A progress report: pages staged (resumed ones included) of the last known page count."""

    pages_done: int
    pages_total: int | None
    pages_this_run: int
    elapsed_s: float
    rate_pages_per_s: float | None
    eta_s: float | None

    def describe(self) -> str:
        """Return a one-line summary for the run log."""
        total = "?" if self.pages_total is None else str(self.pages_total)
        percent = f" ({100 * self.pages_done / self.pages_total:.1f} %)" if self.pages_total else ""
        rate = "?" if self.rate_pages_per_s is None else f"{self.rate_pages_per_s:.2f}"
        return (
            f"players crawl: {self.pages_done}/{total} pages{percent}, {rate} pages/s, "
            f"ETA {format_duration(self.eta_s)}"
        )

    def as_metadata(self) -> dict[str, float | int | str]:
        """Return the report as flat metadata values."""
        return {
            "pages_done": self.pages_done,
            "pages_total": -1 if self.pages_total is None else self.pages_total,
            "pages_this_run": self.pages_this_run,
            "rate_pages_per_s": round(self.rate_pages_per_s or 0.0, 3),
            "eta": format_duration(self.eta_s),
            "elapsed": format_duration(self.elapsed_s),
        }


class ProgressTracker:
    """Counts pages and says when the next report is due (every `interval_s`)."""

    def __init__(self, pages_done: int, interval_s: float) -> None:
        self._started = time.monotonic()
        self._last_report = self._started
        self.interval_s = interval_s
        self.pages_done = pages_done
        self.pages_this_run = 0
        self.pages_total: int | None = None

    def page_staged(self, pages_total: int) -> None:
        """Record one more staged page and the page count the API reports now."""
        self.pages_done += 1
        self.pages_this_run += 1
        self.pages_total = pages_total

    def due(self) -> bool:
        """Return True when a report is due (and start the next interval)."""
        now = time.monotonic()
        if now - self._last_report >= self.interval_s:
            self._last_report = now
            return True
        return False

    def snapshot(self) -> Progress:
        """Return the current progress."""
        elapsed = time.monotonic() - self._started
        rate = self.pages_this_run / elapsed if elapsed > 0 and self.pages_this_run else None
        eta = None
        if rate and self.pages_total is not None:
            eta = max(0, self.pages_total - self.pages_done) / rate
        return Progress(self.pages_done, self.pages_total, self.pages_this_run, elapsed, rate, eta)
