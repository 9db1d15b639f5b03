"""Running an ERP import through the API: upload each part, follow its job, add it up.

Parts are imported one after the other, each only once the previous job has finished,
so a file split in parts behaves like the file: rows later in the file are applied
later (with Lambda running SQS jobs concurrently, parallel parts would race on rows
that share a key), and a part that fails stops the import before the next is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from erp_sync.api import ApiClient, ApiError
from erp_sync.files import Part

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "ImportResult",
    "Progress",
    "RejectedRow",
    "import_parts",
]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_FAILED = 2

POLL_INTERVAL_S = 0.5
STALL_TIMEOUT_S = 1800.0
"""Give up on a job whose progress has not moved for this long (e.g. no worker runs)."""

_DONE = ("succeeded", "failed")


class Progress(Protocol):
    """Receives the rows processed so far across all parts and the best known total."""

    def update(self, processed: int, total: int | None) -> None: ...


@dataclass(frozen=True)
class RejectedRow:
    """A refused row, with its line (or JSON item number) in the original file."""

    line: int
    field: str
    reason: str


@dataclass
class ImportResult:
    """What an import did, added up over its parts."""

    kind: str
    parts: int
    parts_done: int = 0
    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    """Rows refused (a row refused for several fields counts once)."""
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    """Every (line, field, reason) the API reported; see ``rejected_rows_truncated``."""
    rejected_rows_truncated: bool = False
    """The API lists at most 1,000 refusals per job; some were not listed."""
    job_ids: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the import stopped (failed job, API error); ``None`` if every part finished."""

    @property
    def exit_code(self) -> int:
        """0: every row applied; 1: some rows rejected; 2: the import did not complete."""
        if self.error is not None:
            return EXIT_FAILED
        return EXIT_REJECTED if self.rejected else EXIT_OK


def _part_label(part: Part, parts: int, unit: str) -> str:
    if parts == 1:
        return ""
    return f"part {part.index + 1} of {parts} (from {unit} {part.first_line}): "


def import_parts(
    client: ApiClient,
    kind: str,
    parts: Sequence[Part],
    file_format: str,
    *,
    progress: Progress | None = None,
    poll_interval: float = POLL_INTERVAL_S,
    stall_timeout: float = STALL_TIMEOUT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ImportResult:
    """Import ``parts`` (from :func:`erp_sync.files.split_file`) one after the other.

    Never raises :class:`ApiError`: an API error or a failed job ends the import with
    ``result.error`` set, keeping the figures of the parts that finished.
    """
    result = ImportResult(kind=kind, parts=len(parts))
    unit = "line" if file_format == "csv" else "item"
    done_rows = 0  # rows processed in finished parts
    part_totals: list[int | None] = [p.rows for p in parts]

    def report(processed_here: int) -> None:
        if progress is not None:
            known = (
                None if any(t is None for t in part_totals) else sum(t or 0 for t in part_totals)
            )
            progress.update(done_rows + processed_here, known)

    for part in parts:
        label = _part_label(part, len(parts), unit)
        try:
            job = client.upload(kind, part.data, file_format)
        except ApiError as exc:
            result.error = f"{label}upload refused: {exc}" if exc.status else f"{label}{exc}"
            return result
        job_id = str(job["job_id"])
        result.job_ids.append(job_id)
        try:
            job = _follow(
                client, job, part, part_totals, report, poll_interval, stall_timeout, sleep, clock
            )
        except ApiError as exc:
            result.error = (
                f"{label}lost track of import {job_id}: {exc}. It may still be running on "
                f"the server: check GET /admin/imports/{job_id} before importing again."
            )
            return result
        except TimeoutError as exc:
            result.error = f"{label}{exc}"
            return result
        _add(result, part, job)
        part_totals[part.index] = int(job.get("total_rows") or 0)
        done_rows += int(job.get("processed_rows") or 0)
        report(0)
        if job["status"] == "failed":
            result.error = f"{label}import {job_id} failed: {job.get('error') or 'no reason given'}"
            return result
        result.parts_done += 1
    return result


def _follow(
    client: ApiClient,
    job: dict[str, Any],
    part: Part,
    part_totals: list[int | None],
    report: Callable[[int], None],
    poll_interval: float,
    stall_timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> dict[str, Any]:
    """Poll a job until it has finished, reporting progress; returns the final job."""
    last_seen = (job.get("status"), job.get("processed_rows"))
    last_change = clock()
    while job.get("status") not in _DONE:
        sleep(poll_interval)
        job = client.get_job(str(job["job_id"]))
        if job.get("total_rows"):
            part_totals[part.index] = int(job["total_rows"])
        report(int(job.get("processed_rows") or 0))
        seen = (job.get("status"), job.get("processed_rows"))
        if seen != last_seen:
            last_seen, last_change = seen, clock()
        elif clock() - last_change > stall_timeout:
            raise TimeoutError(
                f"import {job['job_id']} has stayed {job.get('status')} with "
                f"{job.get('processed_rows') or 0} rows processed for {stall_timeout:g} s; "
                "is the import worker running? It may still finish: check "
                f"GET /admin/imports/{job['job_id']}."
            )
    return job


def _add(result: ImportResult, part: Part, job: dict[str, Any]) -> None:
    """Add one finished job's figures, with its lines mapped to the original file."""
    result.total_rows += int(job.get("total_rows") or 0)
    result.processed_rows += int(job.get("processed_rows") or 0)
    result.created += int(job.get("created") or 0)
    result.updated += int(job.get("updated") or 0)
    result.unchanged += int(job.get("unchanged") or 0)
    rejected = int(job.get("rejected") or 0)
    result.rejected += rejected
    listed = job.get("rejected_rows") or []
    for row in listed:
        result.rejected_rows.append(
            RejectedRow(
                line=part.original_line(int(row["line"])),
                field=str(row.get("field", "")),
                reason=part.original_reason(str(row.get("reason", ""))),
            )
        )
    if len({row["line"] for row in listed}) < rejected:
        result.rejected_rows_truncated = True
