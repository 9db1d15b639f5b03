"""A misbehaving-on-demand TCP 9100 printer for tests (loopback only).

Behaviour is chosen per connection: ``FakePrinter(default)`` and ``.script(b1, b2, ...)`` for
the next connections. Independent of print_relay on purpose (it must not share the bugs it
tests for).

Modes:
    accept     read everything until the client closes; answer DLE EOT (unless status="none")
    silent     accept the connection but never read (the client's writes and reads time out)
    close_fin  read ``after_bytes`` bytes, then close normally (FIN)
    close_rst  read ``after_bytes`` bytes, then reset (SO_LINGER 0 → RST)
status (DLE EOT replies): "online", "paper_out", "none" (never answer).
For "refused" use ``closed_port()``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

REPLIES = {
    "online": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
}


@dataclass(frozen=True)
class Behaviour:
    mode: str = "accept"
    after_bytes: int = 0
    status: str = "online"


@dataclass
class Connection:
    behaviour: Behaviour
    received: bytearray = field(default_factory=bytearray)
    done: threading.Event = field(default_factory=threading.Event)
    # The printer's journal: when the connection was accepted and when it last read bytes
    # (time.time(), comparable across processes; and time.monotonic(), within one).
    accepted_at: float = field(default_factory=time.time)
    accepted_mono: float = field(default_factory=time.monotonic)
    last_read_mono: float = 0.0

    @property
    def job(self) -> bytes:
        """Received bytes without DLE EOT queries (the job as a printer would print it)."""
        out, i, data = bytearray(), 0, bytes(self.received)
        while i < len(data):
            if data[i : i + 2] == b"\x10\x04" and i + 2 < len(data) and data[i + 2] in REPLY_NS:
                i += 3
                continue
            out.append(data[i])
            i += 1
        return bytes(out)


REPLY_NS = (1, 2, 3, 4)


def closed_port() -> int:
    """A loopback port with nothing listening (connect → refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FakePrinter:
    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default or Behaviour()
        self._script: list[Behaviour] = []
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def script(self, *behaviours: Behaviour) -> FakePrinter:
        with self._lock:
            self._script.extend(behaviours)
        return self

    def __enter__(self) -> FakePrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.close()

    def wait_done(self, index: int = -1, timeout: float = 30.0) -> Connection:
        conn = self.connections[index]
        conn.done.wait(timeout)
        return conn

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                behaviour = self._script.pop(0) if self._script else self.default
                conn = Connection(behaviour)
                self.connections.append(conn)
                self._open.append(sock)
            threading.Thread(target=self._serve, args=(sock, conn), daemon=True).start()

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        b = conn.behaviour
        try:
            if b.mode == "silent":
                self._stop.wait()  # never read; closed by __exit__
                return
            limit = b.after_bytes if b.mode in ("close_fin", "close_rst") else None
            sock.settimeout(0.1)
            pending = b""
            while not self._stop.is_set():
                want = 65536 if limit is None else limit - len(conn.received)
                if want <= 0:
                    break
                try:
                    chunk = sock.recv(want)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                conn.received += chunk
                conn.last_read_mono = time.monotonic()
                if b.status in REPLIES:
                    pending = self._answer(sock, pending + chunk, REPLIES[b.status])
            if b.mode == "close_rst":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif b.mode == "close_fin":
                sock.shutdown(socket.SHUT_WR)
            sock.close()
        except OSError:
            pass
        finally:
            conn.done.set()

    @staticmethod
    def _answer(sock: socket.socket, data: bytes, replies: dict[int, int]) -> bytes:
        """Answer every complete DLE EOT n in data; return an incomplete tail to keep."""
        i = 0
        while True:
            j = data.find(b"\x10\x04", i)
            if j < 0:
                return data[-1:] if data.endswith(b"\x10") else b""
            if j + 2 >= len(data):
                return data[j:]
            n = data[j + 2]
            if n in replies:
                sock.sendall(bytes([replies[n]]))
            i = j + 3
