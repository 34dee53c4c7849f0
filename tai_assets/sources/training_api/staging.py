"""Page staging: every fetched page is checkpointed as a file, so a failed crawl can resume.

Layout, per partition, under the staging root (by default ``<TAI_DATA_DIR>/staging/
players_snapshot``)::

    <partition>/manifest.json     which run family owns the crawl, when it started, done or not
    <partition>/index.jsonl       one line per fetched page, in fetch order (its meta and size)
    <partition>/page-00001.json   the page's body exactly as the API sent it

A page file is written to a temporary name and renamed, then its index line is appended, so a
crawl killed at any instant leaves only whole pages behind (no fsync: a killed process loses
nothing the OS already holds, and fsync per page would cost minutes on a long crawl). Staging
lives outside the warehouse: the crawl never holds the warehouse lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StagedPage:
    """What the index remembers of a fetched page (its body is in the page file)."""

    page: int
    last_page: int
    total: int | None
    records: int
    fetched_at: str  # ISO 8601, aware UTC
    reread: int = 0  # 0: the crawl's pass over every page; n: the n-th re-read of the head


@dataclass
class Manifest:
    """The crawl a staging folder belongs to."""

    partition: str
    run_family: str  # the Dagster root run id: re-executions share it, new runs do not
    snapshot_time: str  # ISO 8601 aware UTC: when the crawl (its first run) started
    complete: bool = False
    partial: bool = False  # stopped on purpose at a page limit


class StagingBusyError(RuntimeError):
    """Another process holds the partition's staging (two runs of one partition at once)."""


class PageStage:
    """The staging folder of one partition's crawl."""

    def __init__(self, root: Path | str, partition: str) -> None:
        if not partition or "/" in partition or partition.startswith("."):
            raise ValueError(f"unsafe partition key for a folder name: {partition!r}")
        self.directory = Path(root) / partition
        self.partition = partition

    @property
    def manifest_path(self) -> Path:
        """Return the path of the manifest file."""
        return self.directory / "manifest.json"

    @property
    def index_path(self) -> Path:
        """Return the path of the page index file."""
        return self.directory / "index.jsonl"

    def page_path(self, page: int, reread: int = 0) -> Path:
        """Return the file a page's body is staged in (a head re-read keeps its own file: it
        adds to the first read of that page, it does not replace it)."""
        prefix = f"reread-{reread}-" if reread else ""
        return self.directory / f"{prefix}page-{page:05d}.json"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the partition's staging exclusively (a lock file beside its folder).

        Raises `StagingBusyError` at once when another run of the same partition holds it, so
        that two runs never interleave pages or clear each other's crawl.
        """
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.directory.parent / f"{self.partition}.lock"
        with lock_path.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise StagingBusyError(
                    f"another run is crawling or writing partition {self.partition} "
                    f"(lock {lock_path} is held)"
                ) from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_manifest(self) -> Manifest | None:
        """Return the manifest, or None when nothing (readable) is staged."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            return Manifest(**data)
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None

    def write_manifest(self, manifest: Manifest) -> None:
        """Write the manifest atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.manifest_path, json.dumps(asdict(manifest), indent=2).encode())

    def begin(self, run_family: str, snapshot_time: datetime, *, fresh: bool) -> Manifest:
        """Return the manifest to crawl under, resuming or starting over.

        Staged pages are resumed only by the run family that staged them (a re-execution or an
        automatic retry of the failed run); any other run, or ``fresh``, discards them and starts
        a new crawl stamped ``snapshot_time``.
        """
        current = self.read_manifest()
        if current is not None and not fresh and current.run_family == run_family:
            return current
        self.clear()
        manifest = Manifest(self.partition, run_family, snapshot_time.isoformat())
        self.write_manifest(manifest)
        return manifest

    def pages(self) -> list[StagedPage]:
        """Return the staged pages in fetch order (a page fetched twice: its last fetch counts).

        Index lines whose page file is missing, and a torn last line, are ignored: such a page
        is fetched again.
        """
        try:
            lines = self.index_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        latest: dict[tuple[int, int], StagedPage] = {}
        for line in lines:
            try:
                entry = StagedPage(**json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue
            if self.page_path(entry.page, entry.reread).exists():
                latest.pop((entry.reread, entry.page), None)
                latest[(entry.reread, entry.page)] = entry
        return list(latest.values())

    def write_page(self, entry: StagedPage, body: bytes) -> None:
        """Stage a page's body, then record it in the index (in that order, for crash safety)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.page_path(entry.page, entry.reread), body)
        with self.index_path.open("a", encoding="utf-8") as index:
            index.write(json.dumps(asdict(entry)) + "\n")

    def read_page(self, page: int, reread: int = 0) -> dict[str, Any]:
        """Return a staged page's body, parsed."""
        return json.loads(self.page_path(page, reread).read_bytes())

    def iter_bodies(self) -> Iterator[tuple[StagedPage, dict[str, Any]]]:
        """Yield every staged page with its parsed body, in fetch order."""
        for entry in self.pages():
            yield entry, self.read_page(entry.page, entry.reread)

    def clear(self) -> None:
        """Remove everything staged for this partition."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
