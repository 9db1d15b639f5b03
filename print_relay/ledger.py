"""The relay's ledger: what it received, printed and acknowledged, in SQLite on the store PC.

Written before anything leaves the PC, so a relay killed at any point (power cut, ``kill -9``)
restarts without losing a ticket and without printing one twice unmarked.

Per job copy, keyed by ``(job_id, copy)``::

    pending ──▶ printing ──▶ printed ──▶ acked
       ▲           │                 └─▶ rejected   (the API refused the ack for good)
       └───────────┘  failed (nothing printed) / unclear (maybe printed: next print is 补打)

``printing`` is committed before the bytes go out; a copy found in ``printing`` at start-up
may be on paper, so it goes back to ``pending`` marked ``reprint`` (printed as 补打).

Jobs keep their arrival order (``seq``), which is the queue's order, so tickets print in
order. Each SQS message is kept with its latest receipt handle and its job; the messages of a
job are deleted once every copy is acked (or rejected).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CopyRow", "Ledger", "LedgerLocked", "MessageRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,   -- arrival order = printing order
    job_id       TEXT NOT NULL UNIQUE,
    body         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    received_at  REAL NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open',        -- open | done
    done_at      REAL
);
CREATE TABLE IF NOT EXISTS copies (
    job_id       TEXT NOT NULL,
    copy         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',     -- pending|printing|printed|acked|rejected
    reprint      INTEGER NOT NULL DEFAULT 0,          -- print it next time marked 补打
    printed_as_reprint INTEGER NOT NULL DEFAULT 0,
    printer      TEXT,
    print_tries  INTEGER NOT NULL DEFAULT 0,
    printed_at   REAL,
    ack_tries    INTEGER NOT NULL DEFAULT 0,
    ack_next_at  REAL NOT NULL DEFAULT 0,
    acked_at     REAL,
    last_error   TEXT,
    PRIMARY KEY (job_id, copy)
);
CREATE INDEX IF NOT EXISTS copies_state ON copies (state);
CREATE TABLE IF NOT EXISTS messages (
    message_id     TEXT PRIMARY KEY,
    job_id         TEXT,
    receipt_handle TEXT NOT NULL,
    received_at    REAL NOT NULL,      -- of the latest receipt handle
    receive_count  INTEGER NOT NULL,
    visible_until  REAL NOT NULL,
    state          TEXT NOT NULL DEFAULT 'held'   -- held | deleted | lost | released
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state);
CREATE TABLE IF NOT EXISTS failures (    -- reports for POST /relay/print-jobs/{id}/failure
    job_id      TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    next_at     REAL NOT NULL DEFAULT 0,
    sent_at     REAL
);
"""


# Printed copies due for acknowledgement, and when the next one is. A copy is due at its
# retry time (``ack_next_at``) or, while a sibling copy is still to print, no earlier than
# ``printed_at`` + the wait (the first parameter), so one request covers the whole job.
_DUE_ACKS = """
SELECT j.seq, c.*, j.body FROM copies c JOIN jobs j USING (job_id)
WHERE c.state = 'printed' AND (CASE WHEN EXISTS (
    SELECT 1 FROM copies o WHERE o.job_id = c.job_id AND o.state IN ('pending', 'printing'))
  THEN MAX(c.ack_next_at, COALESCE(c.printed_at, 0) + ?) ELSE c.ack_next_at END) <= ?
ORDER BY j.seq, c.position LIMIT ?
"""
_NEXT_ACK_AT = """
SELECT MIN(CASE WHEN EXISTS (
    SELECT 1 FROM copies o WHERE o.job_id = c.job_id AND o.state IN ('pending', 'printing'))
  THEN MAX(c.ack_next_at, COALESCE(c.printed_at, 0) + ?) ELSE c.ack_next_at END) AS t
FROM copies c WHERE c.state = 'printed'
"""


class LedgerLocked(RuntimeError):
    """Another relay process is using this ledger file."""


@dataclass(frozen=True)
class CopyRow:
    seq: int
    job_id: str
    copy: str
    position: int
    state: str
    reprint: bool
    printed_as_reprint: bool
    printer: str | None
    print_tries: int
    ack_tries: int
    body: str

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass(frozen=True)
class MessageRow:
    message_id: str
    job_id: str | None
    receipt_handle: str
    received_at: float
    receive_count: int
    visible_until: float


class Ledger:
    """One SQLite file (WAL, ``synchronous=FULL``), shared by the relay's threads."""

    def __init__(self, path: str | Path, *, exclusive: bool = True) -> None:
        """Open (or create) the ledger. ``exclusive`` (the relay itself) refuses to open a
        ledger another relay process holds; tools that only read pass ``False``."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_file = _lock_exclusively(lock_path) if exclusive else None
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=10, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._lock_file is not None:
                with contextlib.suppress(OSError):
                    self._lock_file.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One committed transaction (durable on return: synchronous=FULL)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ start-up

    def recover(self) -> list[tuple[str, str]]:
        """After a crash: copies caught in ``printing`` may be on paper, so they go back to
        ``pending`` marked 补打. Returns their ``(job_id, copy)``."""
        with self._tx() as db:
            rows = db.execute("SELECT job_id, copy FROM copies WHERE state = 'printing'").fetchall()
            db.execute(
                "UPDATE copies SET state = 'pending', reprint = 1,"
                " last_error = 'relay stopped while printing' WHERE state = 'printing'"
            )
        return [(r["job_id"], r["copy"]) for r in rows]

    # ------------------------------------------------------------------ receiving

    def add_message(
        self,
        *,
        message_id: str,
        receipt_handle: str,
        receive_count: int,
        received_at: float,
        visible_until: float,
        job: dict[str, Any],
    ) -> str:
        """Store a received message of a printable job, in one transaction.

        Returns ``"new"`` (a job to print), ``"open"`` (a redelivery of a job not finished
        yet: the message is kept with it) or ``"reopened"`` (a redelivery of a finished job:
        its acknowledged copies are acknowledged again, then the message is deleted) or
        ``"finished"`` (a message this relay handed back when it stopped, whose job finished
        since: it is only deleted).
        """
        job_id = job["job_id"]
        with self._tx() as db:
            before = db.execute(
                "SELECT state FROM messages WHERE message_id = ?", (message_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO messages (message_id, job_id, receipt_handle, received_at,"
                " receive_count, visible_until, state) VALUES (?, ?, ?, ?, ?, ?, 'held')"
                " ON CONFLICT (message_id) DO UPDATE SET job_id = excluded.job_id,"
                " receipt_handle = excluded.receipt_handle, received_at = excluded.received_at,"
                " receive_count = excluded.receive_count,"
                " visible_until = excluded.visible_until, state = 'held'",
                (message_id, job_id, receipt_handle, received_at, receive_count, visible_until),
            )
            row = db.execute("SELECT state FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (job_id, body, kind, attempt, received_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        job_id,
                        json.dumps(job, ensure_ascii=False),
                        str(job.get("kind", "")),
                        int(job.get("attempt") or 1),
                        received_at,
                    ),
                )
                db.executemany(
                    "INSERT INTO copies (job_id, copy, position) VALUES (?, ?, ?)",
                    [(job_id, c, i) for i, c in enumerate(dict.fromkeys(job["copies"]))],
                )
                return "new"
            db.execute(
                "UPDATE jobs SET attempt = MAX(attempt, ?) WHERE job_id = ?",
                (int(job.get("attempt") or 1), job_id),
            )
            if row["state"] == "open":
                return "open"
            if before is not None and before["state"] == "released":
                return "finished"  # done and acknowledged after the hand-back: delete it
            db.execute("UPDATE jobs SET state = 'open', done_at = NULL WHERE job_id = ?", (job_id,))
            db.execute(
                "UPDATE copies SET state = 'printed', ack_next_at = 0, ack_tries = 0"
                " WHERE job_id = ? AND state = 'acked'",
                (job_id,),
            )
            return "reopened"

    def has_job(self, job_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)))

    # ------------------------------------------------------------------ printing

    def printable(self, limit: int = 100) -> list[CopyRow]:
        """Copies waiting to be printed, in printing order (job arrival, then copy order)."""
        rows = self._query(
            "SELECT j.seq, c.*, j.body FROM copies c JOIN jobs j USING (job_id)"
            " WHERE c.state = 'pending' ORDER BY j.seq, c.position LIMIT ?",
            (limit,),
        )
        return [_copy_row(r) for r in rows]

    def mark_printing(self, job_id: str, copy: str) -> None:
        """Committed before any byte goes to a printer."""
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET state = 'printing', print_tries = print_tries + 1"
                " WHERE job_id = ? AND copy = ? AND state = 'pending'",
                (job_id, copy),
            )

    def mark_printed(
        self, job_id: str, copy: str, *, printer: str, as_reprint: bool, at: float
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET state = 'printed', printer = ?, printed_as_reprint = ?,"
                " printed_at = ?, reprint = 0, last_error = NULL, ack_next_at = 0"
                " WHERE job_id = ? AND copy = ?",
                (printer, int(as_reprint), at, job_id, copy),
            )

    def mark_not_printed(self, job_id: str, copy: str, *, unclear: bool, error: str) -> None:
        """Back to ``pending``. ``unclear``: part of it may be on paper, so the next print is
        marked 补打."""
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET state = 'pending', last_error = ?,"
                " reprint = CASE WHEN ? THEN 1 ELSE reprint END"
                " WHERE job_id = ? AND copy = ?",
                (error[:500], int(unclear), job_id, copy),
            )

    def mark_rejected(self, job_id: str, copy: str, error: str) -> None:
        """Given up for good (the API refused the ack, or the copy cannot be rendered)."""
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET state = 'rejected', last_error = ?"
                " WHERE job_id = ? AND copy = ?",
                (error[:500], job_id, copy),
            )

    # ------------------------------------------------------------------ acknowledging

    def due_acks(self, now: float, limit: int = 50, wait_s: float = 0.0) -> list[CopyRow]:
        """Printed copies to acknowledge now, in printing order. A copy printed less than
        ``wait_s`` ago waits while another copy of its job is still to print, so that one
        request acknowledges the job's copies together."""
        return [_copy_row(r) for r in self._query(_DUE_ACKS, (wait_s, now, limit))]

    def next_ack_at(self, wait_s: float = 0.0) -> float | None:
        """When the next printed copy is due for acknowledgement (as ``due_acks``)."""
        return self._query(_NEXT_ACK_AT, (wait_s,))[0]["t"]

    def mark_acked(self, job_id: str, copy: str, at: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET state = 'acked', acked_at = ?, last_error = NULL"
                " WHERE job_id = ? AND copy = ? AND state = 'printed'",
                (at, job_id, copy),
            )

    def ack_later(self, job_id: str, copy: str, *, next_at: float, error: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE copies SET ack_tries = ack_tries + 1, ack_next_at = ?, last_error = ?"
                " WHERE job_id = ? AND copy = ?",
                (next_at, error[:500], job_id, copy),
            )

    def finish_jobs(self, now: float) -> list[str]:
        """Jobs whose every copy is acked or rejected become ``done``; returns their ids."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT job_id FROM jobs j WHERE state = 'open' AND NOT EXISTS ("
                " SELECT 1 FROM copies c WHERE c.job_id = j.job_id"
                " AND c.state NOT IN ('acked', 'rejected'))"
            ).fetchall()
            ids = [r["job_id"] for r in rows]
            db.executemany(
                "UPDATE jobs SET state = 'done', done_at = ? WHERE job_id = ?",
                [(now, i) for i in ids],
            )
        return ids

    # ------------------------------------------------------------------ messages

    def deletable_messages(self) -> list[MessageRow]:
        """Held messages whose job is done: delete them from the queue."""
        rows = self._query(
            "SELECT m.* FROM messages m JOIN jobs j USING (job_id)"
            " WHERE m.state = 'held' AND j.state = 'done' ORDER BY j.seq"
        )
        return [_message_row(r) for r in rows]

    def messages_to_extend(self, before: float) -> list[MessageRow]:
        """Held messages that become visible again before ``before``."""
        rows = self._query(
            "SELECT * FROM messages WHERE state = 'held' AND visible_until < ?"
            " ORDER BY visible_until",
            (before,),
        )
        return [_message_row(r) for r in rows]

    def held_messages(self) -> list[MessageRow]:
        """Every message the relay holds on the queue, oldest job first."""
        rows = self._query(
            "SELECT m.* FROM messages m LEFT JOIN jobs j USING (job_id)"
            " WHERE m.state = 'held' ORDER BY j.seq"
        )
        return [_message_row(r) for r in rows]

    def held_message_count(self) -> int:
        return self._query("SELECT COUNT(*) AS n FROM messages WHERE state = 'held'")[0]["n"]

    def set_visible_until(self, message_id: str, until: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET visible_until = ? WHERE message_id = ?", (until, message_id)
            )

    def set_message_state(self, message_id: str, state: str) -> None:
        """``deleted`` (gone from the queue), ``lost`` (our receipt handle no longer works:
        the message comes back and is matched to its job by ``job_id``) or ``released``
        (handed back to the queue by a stopping relay: it comes back the same way)."""
        assert state in ("deleted", "lost", "released")
        with self._tx() as db:
            db.execute(
                "UPDATE messages SET state = ? WHERE message_id = ? AND state = 'held'",
                (state, message_id),
            )

    # ------------------------------------------------------------------ failure reports

    def add_failure(self, job_id: str, body: dict[str, Any], now: float) -> bool:
        """Queue one failure report per job; False if this job was reported already."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO failures (job_id, body, created_at) VALUES (?, ?, ?)",
                (job_id, json.dumps(body, ensure_ascii=False), now),
            )
            return cur.rowcount == 1

    def due_failures(self, now: float) -> list[tuple[str, dict[str, Any], int]]:
        rows = self._query(
            "SELECT job_id, body, tries FROM failures WHERE sent_at IS NULL AND next_at <= ?"
            " ORDER BY created_at",
            (now,),
        )
        return [(r["job_id"], json.loads(r["body"]), r["tries"]) for r in rows]

    def failure_sent(self, job_id: str, now: float) -> None:
        with self._tx() as db:
            db.execute("UPDATE failures SET sent_at = ? WHERE job_id = ?", (now, job_id))

    def failure_later(self, job_id: str, next_at: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE failures SET tries = tries + 1, next_at = ? WHERE job_id = ?",
                (next_at, job_id),
            )

    # ------------------------------------------------------------------ housekeeping

    def stats(self, now: float) -> dict[str, int]:
        """``pending_copies`` (not printed yet), ``unacked_copies`` (printed, ack not
        accepted yet), ``oldest_pending_s`` (age of the oldest job with a pending copy)."""
        row = self._query(
            "SELECT"
            " SUM(c.state IN ('pending', 'printing')) AS pending,"
            " SUM(c.state = 'printed') AS unacked,"
            " MIN(CASE WHEN c.state IN ('pending', 'printing') THEN j.received_at END) AS oldest"
            " FROM copies c JOIN jobs j USING (job_id) WHERE j.state = 'open'"
        )[0]
        oldest = row["oldest"]
        return {
            "pending_copies": int(row["pending"] or 0),
            "unacked_copies": int(row["unacked"] or 0),
            "oldest_pending_s": max(0, int(now - oldest)) if oldest is not None else 0,
        }

    def copies(self, job_id: str | None = None) -> list[CopyRow]:
        """Every copy (of one job), in printing order; for tools and tests."""
        sql = "SELECT j.seq, c.*, j.body FROM copies c JOIN jobs j USING (job_id)"
        if job_id:
            rows = self._query(sql + " WHERE c.job_id = ? ORDER BY j.seq, c.position", (job_id,))
        else:
            rows = self._query(sql + " ORDER BY j.seq, c.position")
        return [_copy_row(r) for r in rows]

    def prune(self, now: float, keep_s: float) -> int:
        """Forget jobs finished more than ``keep_s`` ago, and their messages and reports.

        Keep well beyond the queue's retention and the watchdog's re-sends, so a late
        redelivery still finds its job and is not printed again."""
        cutoff = now - keep_s
        with self._tx() as db:
            ids = [
                r["job_id"]
                for r in db.execute(
                    "SELECT job_id FROM jobs WHERE state = 'done' AND done_at < ?", (cutoff,)
                ).fetchall()
            ]
            for table in ("copies", "jobs", "failures"):
                db.executemany(
                    f"DELETE FROM {table} WHERE job_id = ?",  # noqa: S608 - fixed names
                    [(i,) for i in ids],
                )
            db.execute("DELETE FROM messages WHERE state != 'held' AND received_at < ?", (cutoff,))
            db.execute("DELETE FROM failures WHERE sent_at IS NOT NULL AND sent_at < ?", (cutoff,))
        return len(ids)


def _copy_row(r: sqlite3.Row) -> CopyRow:
    return CopyRow(
        seq=r["seq"],
        job_id=r["job_id"],
        copy=r["copy"],
        position=r["position"],
        state=r["state"],
        reprint=bool(r["reprint"]),
        printed_as_reprint=bool(r["printed_as_reprint"]),
        printer=r["printer"],
        print_tries=r["print_tries"],
        ack_tries=r["ack_tries"],
        body=r["body"],
    )


def _message_row(r: sqlite3.Row) -> MessageRow:
    return MessageRow(
        message_id=r["message_id"],
        job_id=r["job_id"],
        receipt_handle=r["receipt_handle"],
        received_at=r["received_at"],
        receive_count=r["receive_count"],
        visible_until=r["visible_until"],
    )


def _lock_exclusively(path: Path) -> Any:
    """An OS lock held for the process's life: two relays on one ledger would print every
    ticket twice. The OS releases it when the process dies, even on ``kill -9``."""
    f = path.open("a+b")
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows store PCs
            import msvcrt

            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise LedgerLocked(
            f"another relay is already running with the ledger {path.with_suffix('')}; "
            "stop it first (one relay per store PC and ledger)"
        ) from None
    return f
