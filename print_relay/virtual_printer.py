"""A virtual ESC/POS network printer (raw TCP 9100) for the local stack and tests.

Each connection is one job; the job ends when the client closes. Real-time status queries
(DLE EOT n) are answered at once and are not part of the stored job. Jobs are kept in memory
with the time their last byte arrived, and optionally appended to a file (raw bytes) and to a
text preview file.

    python -m print_relay.virtual_printer --port 9100 --out tickets.bin --preview tickets.txt
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

DLE, EOT = 0x10, 0x04
ONLINE_REPLIES = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
# Paper end: printer offline (bit 3), stopped by paper end (bit 5), roll sensor empty (5, 6).
PAPER_OUT_REPLIES = {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72}


@dataclass(frozen=True)
class Job:
    data: bytes
    last_byte_at: float  # time.time() of the last byte received
    peer: str


class _DleEotFilter:
    """Splits a byte stream into job bytes and DLE EOT n queries (even across reads)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> tuple[bytes, list[int]]:
        buf = self._pending + chunk
        self._pending = b""
        out = bytearray()
        queries: list[int] = []
        i = 0
        while i < len(buf):
            if buf[i] == DLE and i + 1 >= len(buf):
                self._pending = buf[i:]
                break
            if buf[i] == DLE and buf[i + 1] == EOT:
                if i + 2 >= len(buf):
                    self._pending = buf[i:]
                    break
                if buf[i + 2] in (1, 2, 3, 4):
                    queries.append(buf[i + 2])
                    i += 3
                    continue
            out.append(buf[i])
            i += 1
        return bytes(out), queries

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest


_ESC_SEQ = re.compile(
    rb"\x1b@|\x1b[dJaE!\-Mt].|\x1dV[AB].|\x1dV.|\x1d!.|\x1c[&.]|\x1c!.", re.DOTALL
)
_GS_PAREN = re.compile(rb"\x1d\(k(.)(.)", re.DOTALL)  # GS ( k pL pH: a QR code command


def _drop_qr_commands(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while (match := _GS_PAREN.search(data, pos)) is not None:
        out += data[pos : match.start()]
        length = match.group(1)[0] + 256 * match.group(2)[0]
        body = data[match.end() : match.end() + length]  # cn fn m data...
        if body[1:2] == b"P":  # fn 80: store the symbol's data
            out += b"[QR " + body[3:] + b"]"
        pos = match.end() + length
    return bytes(out + data[pos:])


def text_preview(data: bytes) -> str:
    """A rough human-readable view of a job: GBK text, control sequences dropped, a QR code
    shown as ``[QR data]``."""
    cleaned = _ESC_SEQ.sub(b"", _drop_qr_commands(data))
    cleaned = bytes(b for b in cleaned if b >= 0x20 or b in (0x0A,))
    return cleaned.decode("gbk", errors="replace")


class VirtualPrinter:
    """Threaded TCP printer on loopback. ``port=0`` picks a free port (see ``.port``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        out: str | Path | None = None,
        preview: str | Path | None = None,
        journal: str | Path | None = None,
        paper_out: bool = False,
    ) -> None:
        self.out = Path(out) if out else None
        self.preview = Path(preview) if preview else None
        # One JSON line per job (time of its last byte, its text): for benches and tests
        # in other processes, e.g. bench/print_latency.py.
        self.journal = Path(journal) if journal else None
        self.paper_out = paper_out
        self._jobs: list[Job] = []
        self._cond = threading.Condition()
        self._file_lock = threading.Lock()
        printer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                printer._handle(self.request, f"{self.client_address[0]}:{self.client_address[1]}")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server((host, port), Handler)
        # An AF_INET server: its address is (host, port).
        self.host, self.port = cast(tuple[str, int], self._server.server_address[:2])
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> VirtualPrinter:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"virtual-printer-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- jobs
    @property
    def jobs(self) -> list[Job]:
        with self._cond:
            return list(self._jobs)

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[Job]:
        with self._cond:
            self._cond.wait_for(lambda: len(self._jobs) >= count, timeout=timeout)
            return list(self._jobs)

    def clear(self) -> None:
        with self._cond:
            self._jobs.clear()

    # -- connection
    def _handle(self, sock: socket.socket, peer: str) -> None:
        filt = _DleEotFilter()
        data = bytearray()
        last = time.time()
        replies = PAPER_OUT_REPLIES if self.paper_out else ONLINE_REPLIES
        with contextlib.suppress(OSError):  # a dropped connection still leaves what arrived
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                job_bytes, queries = filt.feed(chunk)
                if job_bytes:
                    data += job_bytes
                    last = time.time()
                if queries:
                    # A status query after a job: the job is on paper before the answer
                    # leaves (as on a real printer), so the sender's next job, sent once it
                    # has the answer, can never be stored ahead of this one.
                    if data:
                        self._store(Job(bytes(data), last, peer))
                        data = bytearray()
                    sock.sendall(bytes(replies[n] for n in queries))
        data += filt.flush()
        if data:
            self._store(Job(bytes(data), last, peer))

    def _store(self, job: Job) -> None:
        with self._file_lock:
            if self.out:
                with self.out.open("ab") as f:
                    f.write(job.data)
            if self.preview:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.last_byte_at))
                with self.preview.open("a", encoding="utf-8") as f:
                    f.write(f"----- job from {job.peer} at {stamp} ({len(job.data)} bytes)\n")
                    f.write(text_preview(job.data).rstrip("\n") + "\n")
            if self.journal:
                entry = {
                    "last_byte_at": job.last_byte_at,
                    "peer": job.peer,
                    "bytes": len(job.data),
                    "text": text_preview(job.data),
                }
                with self.journal.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        with self._cond:
            self._jobs.append(job)
            self._cond.notify_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Virtual ESC/POS network printer (TCP 9100)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--out", help="append every job's bytes to this file")
    parser.add_argument("--preview", help="append a text preview of every job to this file")
    parser.add_argument("--journal", help="append one JSON line per job (time, text) here")
    parser.add_argument("--paper-out", action="store_true", help="report paper out on DLE EOT")
    args = parser.parse_args(argv)
    printer = VirtualPrinter(
        args.host,
        args.port,
        out=args.out,
        preview=args.preview,
        journal=args.journal,
        paper_out=args.paper_out,
    )
    print(f"virtual printer listening on {printer.host}:{printer.port}", flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            printer.serve_forever()
    finally:
        printer._server.server_close()


if __name__ == "__main__":
    main()
