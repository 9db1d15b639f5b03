"""The printer side of the store print relay: send bytes, tell what happened, ask for status.

Runs on the store PC on its own: nothing here imports from ``functions/``.

A send has exactly three outcomes (``SendOutcome``), because invariant 6 says a message is
deleted only after the printer took the bytes, and a duplicate must never be silent:

``printed``
    Every byte was written and the printer acknowledged it (see ``NetworkPrinter``'s ``ack``).
    The caller may delete the message.
``unclear``
    At least one byte may have reached the printer, but we cannot tell whether all of them
    did: the connection was closed (FIN) or reset (RST) part-way, a write timed out after some
    bytes were accepted, or the printer never acknowledged. The caller must print the job again
    marked 补打 (and must NOT fail over to another printer on its own).
``failed``
    Certainly nothing was printed: refused, unreachable, connect timeout, a write timeout or
    reset before a single byte was accepted, a device that could not be opened. Safe to retry
    or to send to another printer (``FailoverPrinter``).
"""

from __future__ import annotations

import contextlib
import enum
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

DLE_EOT = b"\x10\x04"
#: DLE EOT n: 1 printer status, 2 offline cause, 4 roll paper sensor.
QUERY_PRINTER, QUERY_OFFLINE, QUERY_PAPER = 1, 2, 4
PAPER_WIDTHS_MM = (58, 80)
_CHUNK = 16 * 1024


class SendOutcome(enum.StrEnum):
    PRINTED = "printed"
    UNCLEAR = "unclear"
    FAILED = "failed"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    reason: str = ""
    bytes_sent: int = 0  # bytes handed to the OS / device (not proof of printing)
    printer: str = ""  # which printer answered (FailoverPrinter says which one it used)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def printed(self) -> bool:
        return self.outcome is SendOutcome.PRINTED

    @property
    def unclear(self) -> bool:
        return self.outcome is SendOutcome.UNCLEAR

    @property
    def failed(self) -> bool:
        return self.outcome is SendOutcome.FAILED


class PrinterState(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    state: PrinterState
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Printer(Protocol):
    name: str
    paper_mm: int

    def send(self, data: bytes) -> SendResult: ...

    def status(self) -> PrinterStatus: ...


def _check_paper(paper_mm: int) -> int:
    if paper_mm not in PAPER_WIDTHS_MM:
        raise ValueError(f"paper width must be one of {PAPER_WIDTHS_MM} mm, not {paper_mm!r}")
    return paper_mm


# --------------------------------------------------------------------------------------------
# DLE EOT replies (ESC/POS). Every reply byte has bit 1 and bit 4 set, bits 0 and 7 clear.


def valid_status_byte(b: int) -> bool:
    return b & 0x93 == 0x12


def decode_status(replies: dict[int, int]) -> PrinterStatus:
    """Turn DLE EOT replies ({n: byte}) into a PrinterStatus."""
    details: dict[str, Any] = {f"dle_eot_{n}": f"0x{b:02x}" for n, b in replies.items()}
    paper = replies.get(QUERY_PAPER)
    if paper is not None:
        details["paper_near_end"] = bool(paper & 0x0C)
        if paper & 0x60:
            return PrinterStatus(PrinterState.PAPER_OUT, details)
    cause = replies.get(QUERY_OFFLINE)
    if cause is not None:
        details.update(
            cover_open=bool(cause & 0x04),
            feed_button=bool(cause & 0x08),
            paper_end_stop=bool(cause & 0x20),
            error=bool(cause & 0x40),
        )
        if cause & 0x20:
            return PrinterStatus(PrinterState.PAPER_OUT, details)
    printer = replies.get(QUERY_PRINTER)
    if printer is not None and printer & 0x08:
        return PrinterStatus(PrinterState.OFFLINE, details)
    if printer is None and paper is None:
        return PrinterStatus(PrinterState.UNKNOWN, details)
    return PrinterStatus(PrinterState.ONLINE, details)


# --------------------------------------------------------------------------------------------
# Network (raw TCP 9100)
#
# Why plain sockets and not python-escpos's ``Network`` class: its status queries
# (query_status / is_online / paper_status) block for the whole socket timeout when the
# printer does not answer, and a printer that closes the connection mid-job raises nothing
# until the next write, so a job could be reported as sent while part of it was lost. Here we
# count the bytes the OS accepted, bound every step by a deadline and require an explicit
# acknowledgement before saying ``printed``. python-escpos is still used elsewhere to build the
# bytes; only the transport is ours.


class NetworkPrinter:
    """A raw TCP (port 9100) ESC/POS printer.

    ``ack`` decides what proves that the printer took the bytes:

    ``"status"`` (default)
        After the job we send DLE EOT 1 on the same connection and wait for the status byte.
        A printer answers a real-time query when its interface reads it, i.e. after it read
        every byte of the job before it, so a reply is proof of receipt. A printer that closed
        (FIN) or reset (RST) part-way never answers: ``unclear``. Caveat: a 0x10 0x04 n
        sequence inside raster data may make a printer answer early.
    ``"close"``
        For printers without real-time status over TCP: we half-close (FIN) and wait for the
        printer to close its side, as CUPS's socket backend does. Weaker: a printer that
        closes mid-job after the OS already accepted every byte looks like a clean close.

    ``write_timeout`` bounds the whole write plus acknowledgement. A printer that accepts the
    connection but never reads ("silent") gives ``unclear``, not ``failed``: the OS accepted
    our bytes into the printer's TCP buffers, and a busy printer reads them later, so sending
    to another printer could print the job twice without anyone knowing.
    """

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 3.0,
        write_timeout: float = 10.0,
        status_timeout: float = 1.5,
        ack: str = "status",
        paper_mm: int = 80,
        name: str | None = None,
    ) -> None:
        if ack not in ("status", "close"):
            raise ValueError(f"ack must be 'status' or 'close', not {ack!r}")
        self.host, self.port = host, int(port)
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.status_timeout = status_timeout
        self.ack = ack
        self.paper_mm = _check_paper(paper_mm)
        self.name = name or f"network:{host}:{self.port}"

    def __repr__(self) -> str:
        return f"NetworkPrinter({self.host!r}, {self.port})"

    def _result(self, outcome: SendOutcome, reason: str, sent: int, **details: Any) -> SendResult:
        return SendResult(outcome, reason, sent, self.name, details)

    def send(self, data: bytes) -> SendResult:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:  # refused, unreachable, connect timeout, DNS
            return self._result(SendOutcome.FAILED, f"connect: {exc!r}", 0)
        try:
            return self._send_on(sock, data)
        finally:
            sock.close()

    def _send_on(self, sock: socket.socket, data: bytes) -> SendResult:
        deadline = time.monotonic() + self.write_timeout
        payload = data + DLE_EOT + bytes([QUERY_PRINTER]) if self.ack == "status" else data
        view = memoryview(payload)
        sent = 0

        def lost(what: str) -> SendResult:
            job_sent = min(sent, len(data))
            if sent == 0:
                return self._result(SendOutcome.FAILED, f"{what} before any byte was written", 0)
            return self._result(SendOutcome.UNCLEAR, f"{what} after {job_sent} bytes", job_sent)

        while sent < len(payload):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return lost("write timeout")
            sock.settimeout(remaining)
            try:
                sent += sock.send(view[sent : sent + _CHUNK])
            except TimeoutError:
                return lost("write timeout")
            except OSError as exc:  # EPIPE / ECONNRESET: the printer dropped the connection
                return lost(f"connection lost ({exc.__class__.__name__})")
        job_sent = len(data)

        if self.ack == "close":
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        # Every byte was taken and the connection stays open, but no answer came: with
        # ack = "status" that is what a printer that never answers DLE EOT looks like.
        unanswered = {"status_unanswered": True} if self.ack == "status" else {}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._result(
                    SendOutcome.UNCLEAR, "no acknowledgement in time", job_sent, **unanswered
                )
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(64)
            except TimeoutError:
                return self._result(
                    SendOutcome.UNCLEAR, "no acknowledgement in time", job_sent, **unanswered
                )
            except OSError as exc:
                return self._result(
                    SendOutcome.UNCLEAR,
                    f"connection lost before acknowledgement ({exc.__class__.__name__})",
                    job_sent,
                )
            if self.ack == "close":
                if chunk == b"":
                    return self._result(SendOutcome.PRINTED, "printer closed cleanly", job_sent)
                continue  # back-channel bytes: keep waiting for the close
            if chunk == b"":
                return self._result(
                    SendOutcome.UNCLEAR, "printer closed before acknowledging", job_sent
                )
            status = decode_status({QUERY_PRINTER: chunk[-1]})
            return self._result(
                SendOutcome.PRINTED,
                "acknowledged by DLE EOT 1",
                job_sent,
                printer_state=status.state.value,
                status_byte=f"0x{chunk[-1]:02x}",
            )

    def status(self) -> PrinterStatus:
        """DLE EOT 1, 2, 4 on a connection of its own, bounded by ``status_timeout`` in all.

        Unreachable → offline; reachable but not answering → unknown.
        """
        deadline = time.monotonic() + self.status_timeout
        try:
            sock = socket.create_connection(
                (self.host, self.port), timeout=min(self.connect_timeout, self.status_timeout)
            )
        except OSError as exc:
            return PrinterStatus(PrinterState.OFFLINE, {"reason": f"connect: {exc!r}"})
        replies: dict[int, int] = {}
        reason = ""
        try:
            for n in (QUERY_PRINTER, QUERY_OFFLINE, QUERY_PAPER):
                byte = _query(sock, n, deadline)
                if byte is None:
                    reason = f"no answer to DLE EOT {n}"
                    break
                replies[n] = byte
        except OSError as exc:
            reason = f"connection lost ({exc.__class__.__name__})"
        finally:
            sock.close()
        status = decode_status(replies)
        if reason and QUERY_PRINTER not in replies:
            return PrinterStatus(PrinterState.UNKNOWN, {**status.details, "reason": reason})
        if reason:
            status.details["reason"] = reason
        return status


def _query(sock: socket.socket, n: int, deadline: float) -> int | None:
    """Send DLE EOT n, return the first valid reply byte, None on timeout or close."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    sock.settimeout(remaining)
    try:
        sock.sendall(DLE_EOT + bytes([n]))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            chunk = sock.recv(16)
            if not chunk:
                return None
            for b in chunk:
                if valid_status_byte(b):
                    return b
    except TimeoutError:
        return None


# --------------------------------------------------------------------------------------------
# File


class FilePrinter:
    """Appends each job to a file (a device file such as /dev/usb/lp0, or a plain file)."""

    def __init__(self, path: str | os.PathLike[str], *, paper_mm: int = 80, name: str = ""):
        self.path = Path(path)
        self.paper_mm = _check_paper(paper_mm)
        self.name = name or f"file:{self.path}"

    def send(self, data: bytes) -> SendResult:
        try:
            f = self.path.open("ab")
        except OSError as exc:
            return SendResult(SendOutcome.FAILED, f"open: {exc!r}", 0, self.name)
        try:
            with f:
                f.write(data)
                f.flush()
                with contextlib.suppress(OSError):  # device files may not support fsync
                    os.fsync(f.fileno())
        except OSError as exc:  # part of the job may be in the file
            return SendResult(SendOutcome.UNCLEAR, f"write: {exc!r}", 0, self.name)
        return SendResult(SendOutcome.PRINTED, "appended", len(data), self.name)

    def status(self) -> PrinterStatus:
        target = self.path if self.path.exists() else self.path.parent
        if os.access(target, os.W_OK):
            return PrinterStatus(PrinterState.ONLINE, {"path": str(self.path)})
        return PrinterStatus(
            PrinterState.OFFLINE, {"path": str(self.path), "reason": "not writable"}
        )


# --------------------------------------------------------------------------------------------
# USB and serial: thin wrappers over python-escpos (imported lazily; pyusb / pyserial are only
# needed on a store PC that has such a printer: ``daojia[usb]``, ``daojia[serial]``). Tested
# with a fake pyusb device and a pseudo-terminal.


class _EscposDevicePrinter:
    name: str
    paper_mm: int

    def _device(self) -> Any:
        raise NotImplementedError

    def send(self, data: bytes) -> SendResult:
        try:
            dev = self._device()
            dev.open()
        except Exception as exc:  # missing pyusb/pyserial, device not found, permissions
            return SendResult(SendOutcome.FAILED, f"open: {exc!r}", 0, self.name)
        try:
            dev._raw(data)
        except Exception as exc:  # a USB/serial write may have been partial
            return SendResult(SendOutcome.UNCLEAR, f"write: {exc!r}", 0, self.name)
        finally:
            with contextlib.suppress(Exception):
                dev.close()
        return SendResult(SendOutcome.PRINTED, "written", len(data), self.name)

    def status(self) -> PrinterStatus:
        # python-escpos's query_status blocks for the device timeout; not worth it here.
        return PrinterStatus(PrinterState.UNKNOWN, {"reason": "status not queried on this port"})


class UsbPrinter(_EscposDevicePrinter):
    def __init__(self, vendor: int, product: int, *, timeout_ms: int = 5000, paper_mm: int = 80):
        self.vendor, self.product, self.timeout_ms = vendor, product, timeout_ms
        self.paper_mm = _check_paper(paper_mm)
        self.name = f"usb:{vendor:04x}:{product:04x}"

    def _device(self) -> Any:
        from escpos.printer import Usb

        return Usb(self.vendor, self.product, timeout=self.timeout_ms)


class SerialPrinter(_EscposDevicePrinter):
    def __init__(self, device: str, baudrate: int = 9600, *, timeout: float = 1.0, paper_mm=80):
        self.device, self.baudrate, self.timeout = device, baudrate, timeout
        self.paper_mm = _check_paper(paper_mm)
        self.name = f"serial:{device}"

    def _device(self) -> Any:
        from escpos.printer import Serial

        return Serial(devfile=self.device, baudrate=self.baudrate, timeout=self.timeout)


# --------------------------------------------------------------------------------------------
# Failover


class FailoverPrinter:
    """Sends to ``secondary`` only when ``primary`` clearly failed (nothing printed).

    An ``unclear`` outcome is returned as is: the job may be on the primary's paper, so the
    caller reprints it marked 补打 instead of silently printing it elsewhere.
    """

    def __init__(self, primary: Printer, secondary: Printer, *, name: str = ""):
        self.primary, self.secondary = primary, secondary
        self.paper_mm = primary.paper_mm
        self.name = name or f"failover({primary.name}, {secondary.name})"

    def send(self, data: bytes) -> SendResult:
        first = self.primary.send(data)
        if not first.failed:
            return first
        second = self.secondary.send(data)
        return SendResult(
            second.outcome,
            second.reason,
            second.bytes_sent,
            second.printer or self.secondary.name,
            {**second.details, "failover": True, "primary_reason": first.reason},
        )

    def status(self) -> PrinterStatus:
        primary = self.primary.status()
        if primary.state is PrinterState.ONLINE:
            return primary
        secondary = self.secondary.status()
        return PrinterStatus(
            primary.state,
            {**primary.details, "secondary": secondary.state.value},
        )


# --------------------------------------------------------------------------------------------
# Config

_TIMEOUT_KEYS = ("connect_timeout", "write_timeout", "status_timeout")


def printer_from_config(section: dict[str, Any]) -> Printer:
    """Build a printer from a config section, e.g. ``{"type": "network", "host": "..."}``.

    Types: network (host, port=9100, connect_timeout, write_timeout, status_timeout,
    ack=status|close), virtual (a network printer on 127.0.0.1:9100 by default), file (path),
    usb (vendor, product as ints or "0x0416"), serial (device, baudrate), failover (primary,
    secondary: sections). Every type takes paper_mm (58 or 80, default 80). Unknown keys are
    an error, so a typo does not silently fall back to a default.
    """
    cfg = dict(section)
    kind = cfg.pop("type", None)
    paper_mm = int(cfg.pop("paper_mm", 80))

    def take(allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
        missing = [k for k in required if k not in cfg]
        unknown = sorted(set(cfg) - set(allowed))
        if missing or unknown:
            raise ValueError(
                f"printer config ({kind}): missing {missing or '-'}, unknown {unknown or '-'}"
            )
        return cfg

    if kind in ("network", "virtual"):
        if kind == "virtual":
            cfg.setdefault("host", "127.0.0.1")
        c = take(("host", "port", "ack", *_TIMEOUT_KEYS), ("host",))
        timeouts: dict[str, Any] = {k: float(c[k]) for k in _TIMEOUT_KEYS if k in c}
        return NetworkPrinter(
            str(c["host"]),
            int(c.get("port", 9100)),
            ack=str(c.get("ack", "status")),
            paper_mm=paper_mm,
            **timeouts,
        )
    if kind == "file":
        c = take(("path",), ("path",))
        return FilePrinter(c["path"], paper_mm=paper_mm)
    if kind == "usb":
        c = take(("vendor", "product", "timeout_ms"), ("vendor", "product"))
        return UsbPrinter(
            _int(c["vendor"]),
            _int(c["product"]),
            timeout_ms=int(c.get("timeout_ms", 5000)),
            paper_mm=paper_mm,
        )
    if kind == "serial":
        c = take(("device", "baudrate", "timeout"), ("device",))
        return SerialPrinter(
            str(c["device"]),
            int(c.get("baudrate", 9600)),
            timeout=float(c.get("timeout", 1.0)),
            paper_mm=paper_mm,
        )
    if kind == "failover":
        c = take(("primary", "secondary"), ("primary", "secondary"))
        return FailoverPrinter(
            printer_from_config(c["primary"]), printer_from_config(c["secondary"])
        )
    raise ValueError(f"unknown printer type {kind!r}")


def _int(value: int | str) -> int:
    return value if isinstance(value, int) else int(str(value), 0)
