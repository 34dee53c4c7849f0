"""The resumable crawl: every page from 1 to ``meta.last_page``, each staged once, then the head
of the list again until it holds no account the crawl has not seen.

The page count is re-read from every page's ``meta``: when accounts register during the crawl
``last_page`` (and ``total``) move, the crawl notices, logs it and follows the new value. Pages
already staged by an earlier attempt of the same run family are skipped, so a re-executed run
fetches each remaining page once and none twice. Records shifted from one page onto the next
show up twice; they are de-duplicated on ``id`` when the snapshot is assembled.

The API lists the newest accounts first, so one that registers while the crawl runs lands on a
page already read. After the last page the crawl therefore re-reads the head (page 1, 2, ...)
until a page shows an account it has already seen and it has seen as many accounts as the API
says exist (`reread_head`): every account that exists when the crawl ends is then staged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from tai_assets.common.clock import utc_now
from tai_assets.sources.training_api.fetch import FetchedPage, FetchStats, TrainingApiClient
from tai_assets.sources.training_api.progress import Progress, ProgressTracker
from tai_assets.sources.training_api.staging import Manifest, PageStage, StagedPage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriftReport:
    """How the API's pagination moved while the crawl ran (read from the staged pages)."""

    events: list[str]
    first_total: int | None
    last_total: int | None
    min_total: int | None
    max_total: int | None
    first_last_page: int | None
    final_last_page: int | None


def analyze_drift(pages: list[StagedPage]) -> DriftReport:
    """Return every change of ``last_page`` / ``total`` between consecutive fetches."""
    events: list[str] = []
    previous: StagedPage | None = None
    for entry in pages:
        if previous is not None:
            if entry.last_page != previous.last_page:
                events.append(
                    f"last_page {previous.last_page} -> {entry.last_page} at page {entry.page}"
                )
            if entry.total != previous.total:
                events.append(f"total {previous.total} -> {entry.total} at page {entry.page}")
        previous = entry
    totals = [p.total for p in pages if p.total is not None]
    return DriftReport(
        events=events,
        first_total=totals[0] if totals else None,
        last_total=totals[-1] if totals else None,
        min_total=min(totals) if totals else None,
        max_total=max(totals) if totals else None,
        first_last_page=pages[0].last_page if pages else None,
        final_last_page=pages[-1].last_page if pages else None,
    )


@dataclass
class CrawlResult:
    """What a crawl (this run's part of it) did: `pages` are the pass over every page, in
    fetch order; `drift` also covers the head re-read, so its `last_total` is the API's total
    when the crawl ended."""

    manifest: Manifest
    pages: list[StagedPage]
    pages_resumed: int
    pages_fetched: int
    fetch_stats: FetchStats
    drift: DriftReport
    partial: bool
    progress: Progress
    fetched_page_numbers: list[int] = field(default_factory=list)
    head_pages_reread: int = 0


MAX_HEAD_REREADS = 10


def fetch_and_stage(
    client: TrainingApiClient, stage: PageStage, number: int, reread: int = 0
) -> tuple[FetchedPage, StagedPage]:
    """Fetch page `number` and stage its body; return the page and its index entry."""
    fetched = client.fetch(number)
    meta = fetched.page.meta
    entry = StagedPage(
        page=number,
        last_page=meta.last_page,
        total=meta.total,
        records=len(fetched.page.data),
        fetched_at=utc_now().isoformat(),
        reread=reread,
    )
    stage.write_page(entry, fetched.body)
    return fetched, entry


def _record_ids(body: dict) -> set[int]:
    return {
        record["id"]
        for record in body.get("data") or []
        if isinstance(record, dict) and isinstance(record.get("id"), int)
    }


def reread_head(
    client: TrainingApiClient,
    stage: PageStage,
    *,
    on_drift: Callable[[str], None] | None = None,
) -> int:
    """Re-read the head of the list until it holds nothing new; return the pages re-read.

    Each round reads page 1, 2, ... and stops at the first page that holds an account already
    staged; the rounds end once the accounts staged are at least the `total` the newest page
    reported (accounts that registered during a round are then on page 1 of the next). At most
    MAX_HEAD_REREADS rounds: under a registration storm the row-count check says what is left.
    """
    seen: set[int] = set()
    for _entry, body in stage.iter_bodies():
        seen |= _record_ids(body)
    first_round = 1 + max((entry.reread for entry in stage.pages()), default=0)
    reread_pages = 0
    for round_number in range(first_round, first_round + MAX_HEAD_REREADS):
        number, total = 1, None
        while True:
            fetched, _ = fetch_and_stage(client, stage, number, reread=round_number)
            meta = fetched.page.meta
            reread_pages += 1
            ids = _record_ids(json.loads(fetched.body))
            new = ids - seen
            seen |= ids
            total = meta.total
            if new and on_drift is not None:
                on_drift(f"head re-read {round_number}: {len(new)} accounts new on page {number}")
            if len(new) < len(ids) or not ids or number >= meta.last_page:
                break
            number += 1
        if total is None or len(seen) >= total:
            break
    return reread_pages


def crawl(
    client: TrainingApiClient,
    stage: PageStage,
    manifest: Manifest,
    *,
    max_pages: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_drift: Callable[[str], None] | None = None,
) -> CrawlResult:
    """Stage every page not staged yet, from 1 to the latest ``last_page``; return the result.

    ``max_pages`` stops after page ``max_pages`` (a deliberately partial crawl, for tests and
    trials). ``on_progress`` gets a report every ``progress_interval_s`` and at the end;
    ``on_drift`` a message each time ``last_page`` or ``total`` moves. Raises `PageFetchError`
    when a page cannot be fetched: what is staged stays staged.
    """
    staged = {entry.page: entry for entry in stage.pages()}
    history = list(staged.values())
    latest = history[-1] if history else None
    last_page = latest.last_page if latest else None
    tracker = ProgressTracker(len(staged), client.settings.progress_interval_s)
    tracker.pages_total = last_page
    fetched: list[int] = []
    partial = False
    number = 1
    while last_page is None or number <= last_page:
        if number in staged:
            number += 1
            continue
        if max_pages is not None and number > max_pages:
            partial = True
            break
        _, entry = fetch_and_stage(client, stage, number)
        staged[number] = entry
        fetched.append(number)
        if latest is not None and (
            entry.last_page != latest.last_page or entry.total != latest.total
        ):
            message = (
                f"page drift at page {number}: last_page {latest.last_page} -> "
                f"{entry.last_page}, total {latest.total} -> {entry.total}; following it"
            )
            logger.info(message)
            if on_drift is not None:
                on_drift(message)
        latest = entry
        last_page = entry.last_page
        tracker.page_staged(last_page)
        if on_progress is not None and tracker.due():
            on_progress(tracker.snapshot())
        number += 1
    head_pages_reread = 0 if partial else reread_head(client, stage, on_drift=on_drift)
    progress = tracker.snapshot()
    if on_progress is not None:
        on_progress(progress)
    staged_pages = stage.pages()
    pages = [entry for entry in staged_pages if not entry.reread]
    manifest.complete = True
    manifest.partial = partial
    stage.write_manifest(manifest)
    return CrawlResult(
        manifest=manifest,
        pages=pages,
        pages_resumed=len(pages) - len(fetched),
        pages_fetched=len(fetched),
        fetch_stats=client.stats,
        drift=analyze_drift(staged_pages),
        partial=partial,
        progress=progress,
        fetched_page_numbers=fetched,
        head_pages_reread=head_pages_reread,
    )
