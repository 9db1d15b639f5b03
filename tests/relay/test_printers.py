"""print_relay.printers against a fake TCP 9100 printer: the three send outcomes and status.

Time bounds here are generous upper limits (proof that nothing waits for a long socket
timeout), not performance assertions.
"""

from __future__ import annotations

import socket
import time

import pytest

from print_relay.printers import (
    FailoverPrinter,
    FilePrinter,
    NetworkPrinter,
    PrinterState,
    SendOutcome,
    SendResult,
    SerialPrinter,
    UsbPrinter,
    printer_from_config,
)
from print_relay.virtual_printer import VirtualPrinter, text_preview
from tests.relay.fake_printer import Behaviour, FakePrinter, closed_port

JOB = b"\x1b@" + "测试小票 订单 12345\n".encode("gbk") * 50 + b"\x1dV\x00"
BIG_JOB = bytes(range(256)) * 4096  # 1 MiB, more than one read on the printer side


def net(port: int, **kw) -> NetworkPrinter:
    kw.setdefault("connect_timeout", 1.0)
    kw.setdefault("write_timeout", 1.0)
    return NetworkPrinter("127.0.0.1", port, **kw)


def timed(fn):
    t0 = time.monotonic()
    result = fn()
    return result, time.monotonic() - t0


# -- send outcomes ----------------------------------------------------------------------------


@pytest.mark.parametrize("ack", ["status", "close"])
@pytest.mark.parametrize("job", [JOB, BIG_JOB], ids=["ticket", "1MiB"])
def test_printed_bytes_identical(ack, job):
    with FakePrinter() as fake:
        result = net(fake.port, ack=ack, write_timeout=5).send(job)
        conn = fake.wait_done()
    assert result.outcome is SendOutcome.PRINTED, result
    assert result.bytes_sent == len(job)
    assert conn.job == job


def test_refused_fails_quickly():
    result, elapsed = timed(lambda: net(closed_port(), connect_timeout=5).send(JOB))
    assert result.outcome is SendOutcome.FAILED
    assert result.bytes_sent == 0
    assert "connect" in result.reason
    assert elapsed < 3


def test_silent_printer_is_unclear_within_write_timeout():
    """Accepted but never read: the OS took our bytes, the printer may read them later."""
    with FakePrinter(Behaviour("silent")) as fake:
        result, elapsed = timed(lambda: net(fake.port, write_timeout=0.5).send(JOB))
    assert result.outcome is SendOutcome.UNCLEAR, result
    assert result.bytes_sent > 0
    assert elapsed < 5


def test_silent_printer_with_big_job_is_unclear():
    with FakePrinter(Behaviour("silent")) as fake:
        result, elapsed = timed(lambda: net(fake.port, write_timeout=0.5).send(BIG_JOB * 16))
    assert result.outcome is SendOutcome.UNCLEAR, result
    assert "timeout" in result.reason
    assert elapsed < 5


@pytest.mark.parametrize("mode", ["close_fin", "close_rst"])
@pytest.mark.parametrize("ack", ["status", "close"])
@pytest.mark.parametrize("job", [JOB, BIG_JOB], ids=["ticket", "1MiB"])
def test_close_mid_job_is_unclear(mode, ack, job):
    with FakePrinter(Behaviour(mode, after_bytes=100)) as fake:
        result = net(fake.port, ack=ack, write_timeout=3).send(job)
        conn = fake.wait_done()
    assert len(conn.received) == 100
    if ack == "close" and mode == "close_fin":
        # ack=close cannot tell a FIN after 100 bytes from a clean close once the OS took
        # every byte (documented in NetworkPrinter; why ack=status is the default). What
        # must hold even here: never FAILED, which would send the job to the other printer
        # unmarked although part of it reached this one.
        assert result.outcome is not SendOutcome.FAILED, result
    else:
        assert result.outcome is SendOutcome.UNCLEAR, result
    assert result.bytes_sent > 0


def test_printer_without_status_never_acknowledges_is_unclear():
    with FakePrinter(Behaviour(status="none")) as fake:
        result = net(fake.port, write_timeout=0.5).send(JOB)
    assert result.outcome is SendOutcome.UNCLEAR
    assert "acknowledgement" in result.reason


def test_reset_at_once_is_never_printed():
    """Accepted, then reset before reading: FAILED if the RST beat our first write, else
    UNCLEAR (the OS took bytes). Never PRINTED."""
    with FakePrinter(Behaviour("close_rst", after_bytes=0)) as fake:
        result = net(fake.port).send(JOB)
    assert result.outcome in (SendOutcome.FAILED, SendOutcome.UNCLEAR), result


# -- status ---------------------------------------------------------------------------------


def test_status_online():
    with FakePrinter() as fake:
        status = net(fake.port).status()
    assert status.state is PrinterState.ONLINE, status
    assert status.details["dle_eot_1"] == "0x12"


def test_status_paper_out():
    with FakePrinter(Behaviour(status="paper_out")) as fake:
        status = net(fake.port).status()
    assert status.state is PrinterState.PAPER_OUT, status


@pytest.mark.parametrize("mode", ["accept", "silent"])
def test_status_no_answer_is_unknown_without_blocking(mode):
    with FakePrinter(Behaviour(mode, status="none")) as fake:
        p = net(fake.port, connect_timeout=30, write_timeout=30, status_timeout=1.5)
        status, elapsed = timed(p.status)
    assert status.state is PrinterState.UNKNOWN, status
    assert "no answer" in status.details["reason"]
    assert elapsed < 10  # generous: the point is it does not wait for the 30 s timeouts


def test_status_unreachable_is_offline():
    status = net(closed_port()).status()
    assert status.state is PrinterState.OFFLINE


# -- file printer -----------------------------------------------------------------------------


def test_file_printer_appends(tmp_path):
    path = tmp_path / "out.bin"
    p = FilePrinter(path)
    assert p.send(b"one").printed
    assert p.send(b"two").printed
    assert path.read_bytes() == b"onetwo"
    assert p.status().state is PrinterState.ONLINE


def test_file_printer_unopenable_fails(tmp_path):
    p = FilePrinter(tmp_path / "missing-dir" / "out.bin")
    assert p.send(b"x").outcome is SendOutcome.FAILED
    assert p.status().state is PrinterState.OFFLINE


# -- failover ---------------------------------------------------------------------------------


class Scripted:
    def __init__(self, outcome: SendOutcome, name: str):
        self.outcome, self.name, self.paper_mm, self.sent = outcome, name, 80, []

    def send(self, data: bytes) -> SendResult:
        self.sent.append(data)
        return SendResult(self.outcome, "scripted", len(data), self.name)

    def status(self):  # pragma: no cover - unused
        raise NotImplementedError


def test_failover_uses_secondary_when_primary_failed(tmp_path):
    secondary = FilePrinter(tmp_path / "backup.bin")
    result = FailoverPrinter(net(closed_port()), secondary).send(JOB)
    assert result.printed
    assert result.printer == secondary.name
    assert result.details["failover"] is True
    assert (tmp_path / "backup.bin").read_bytes() == JOB


def test_failover_keeps_unclear_on_primary(tmp_path):
    with FakePrinter(Behaviour("close_rst", after_bytes=10)) as fake:
        result = FailoverPrinter(net(fake.port), FilePrinter(tmp_path / "b.bin")).send(JOB)
    assert result.outcome is SendOutcome.UNCLEAR
    assert not (tmp_path / "b.bin").exists()


@pytest.mark.parametrize("outcome", [SendOutcome.PRINTED, SendOutcome.UNCLEAR])
def test_failover_does_not_touch_secondary_unless_failed(outcome):
    primary, secondary = Scripted(outcome, "p"), Scripted(SendOutcome.PRINTED, "s")
    assert FailoverPrinter(primary, secondary).send(b"x").outcome is outcome
    assert secondary.sent == []


# -- virtual printer --------------------------------------------------------------------------


def test_virtual_printer_has_the_job_before_it_answers_the_status_query_after_it():
    """Like a real printer: the answer to DLE EOT after a job means the job is on paper, so
    a sender's next job (on a new connection) cannot be stored ahead of it."""
    with VirtualPrinter() as vp, socket.create_connection(("127.0.0.1", vp.port), 5) as sock:
        sock.sendall(JOB + b"\x10\x04\x01")
        assert sock.recv(1) == b"\x12"  # online
        assert [j.data for j in vp.jobs] == [JOB]  # the connection is still open


def test_virtual_printer_receives_jobs_and_answers_status(tmp_path):
    out, preview = tmp_path / "tickets.bin", tmp_path / "tickets.txt"
    with VirtualPrinter(out=out, preview=preview) as vp:
        p = net(vp.port)
        assert p.status().state is PrinterState.ONLINE
        before = time.time()
        assert p.send(JOB).printed
        assert p.send(b"second\n").printed
        jobs = vp.wait_for_jobs(2)
    assert [j.data for j in jobs] == [JOB, b"second\n"]  # status queries not stored as jobs
    assert jobs[0].last_byte_at >= before - 1
    assert out.read_bytes() == JOB + b"second\n"
    text = preview.read_text(encoding="utf-8")
    assert "测试小票" in text and "second" in text


def test_virtual_printer_paper_out():
    with VirtualPrinter(paper_out=True) as vp:
        assert net(vp.port).status().state is PrinterState.PAPER_OUT


def test_virtual_printer_query_split_across_writes():
    with VirtualPrinter() as vp, socket.create_connection(("127.0.0.1", vp.port)) as s:
        s.sendall(b"abc\x10")
        time.sleep(0.05)
        s.sendall(b"\x04\x01def")
        s.settimeout(2)
        assert s.recv(1) == b"\x12"
        s.shutdown(socket.SHUT_WR)
        assert vp.wait_for_jobs(1)[0].data == b"abcdef"


def test_text_preview_drops_control_codes():
    assert text_preview(b"\x1b@\x1ba\x01" + "合计".encode("gbk") + b"\n\x1dV\x00") == "合计\n"


# -- config -----------------------------------------------------------------------------------


def test_printer_from_config():
    p = printer_from_config({"type": "network", "host": "192.168.1.50", "port": 9100})
    assert isinstance(p, NetworkPrinter) and (p.host, p.port, p.paper_mm) == (
        "192.168.1.50",
        9100,
        80,
    )
    v = printer_from_config({"type": "virtual", "port": 19100, "paper_mm": 58})
    assert isinstance(v, NetworkPrinter) and (v.host, v.paper_mm) == ("127.0.0.1", 58)
    f = printer_from_config({"type": "file", "path": "/tmp/x.bin"})
    assert isinstance(f, FilePrinter)
    u = printer_from_config({"type": "usb", "vendor": "0x0416", "product": "0x5011"})
    assert isinstance(u, UsbPrinter) and (u.vendor, u.product) == (0x0416, 0x5011)
    s = printer_from_config({"type": "serial", "device": "/dev/ttyUSB0", "baudrate": 9600})
    assert isinstance(s, SerialPrinter) and s.baudrate == 9600
    fo = printer_from_config(
        {
            "type": "failover",
            "primary": {"type": "virtual"},
            "secondary": {"type": "file", "path": "b"},
        }
    )
    assert isinstance(fo, FailoverPrinter)


@pytest.mark.parametrize(
    "section",
    [
        {"type": "laser"},
        {"type": "network"},
        {"type": "network", "host": "h", "prot": 9100},
        {"type": "file", "path": "x", "paper_mm": 76},
        {"type": "network", "host": "h", "ack": "maybe"},
    ],
)
def test_printer_from_config_rejects(section):
    with pytest.raises(ValueError):
        printer_from_config(section)


# -- USB and serial (through python-escpos, as on a store PC) --------------------------------


class FakeUsbDevice:
    """What pyusb's usb.core.find returns, as far as python-escpos uses it."""

    class _Backend:  # not libusb1: python-escpos then leaves the kernel driver alone
        pass

    class _Context:
        def __init__(self, device):
            self.device = device

        def dispose(self, device, close_handle=True):
            self.device.disposed += 1

    def __init__(self, fail_write: bool = False):
        self.backend = self._Backend()
        self._ctx = self._Context(self)
        self.fail_write = fail_write
        self.written: list[tuple[int, bytes, int]] = []
        self.configured = False
        self.disposed = 0

    def set_configuration(self):
        self.configured = True

    def reset(self):
        pass

    def write(self, endpoint, data, timeout=None):
        if self.fail_write:
            import usb.core

            raise usb.core.USBTimeoutError("Operation timed out", errno=110)
        self.written.append((endpoint, bytes(data), timeout))
        return len(data)


@pytest.fixture
def usb_bus(monkeypatch):
    """usb.core.find over one fake printer, 0416:5011 (a common Winbond-based printer)."""
    import usb.core

    bus = {(0x0416, 0x5011): FakeUsbDevice()}
    asked = []

    def find(**kwargs):
        asked.append(kwargs)
        return bus.get((kwargs.get("idVendor"), kwargs.get("idProduct")))

    monkeypatch.setattr(usb.core, "find", find)
    return bus, asked


def test_usb_printer_writes_the_job_to_the_out_endpoint(usb_bus):
    bus, asked = usb_bus
    printer = printer_from_config({"type": "usb", "vendor": "0x0416", "product": "0x5011"})
    result = printer.send(JOB)
    device = bus[(0x0416, 0x5011)]
    assert result.outcome is SendOutcome.PRINTED, result
    assert result.bytes_sent == len(JOB)
    assert asked == [{"idVendor": 0x0416, "idProduct": 0x5011}]
    assert device.configured
    assert b"".join(data for _, data, _ in device.written) == JOB
    assert {endpoint for endpoint, _, _ in device.written} == {0x01}
    assert device.disposed == 1  # released, so the next job (or another program) can open it


def test_usb_printer_not_plugged_in_fails_without_printing(usb_bus):
    result = UsbPrinter(0x0416, 0x9999).send(JOB)
    assert result.outcome is SendOutcome.FAILED, result
    assert "open" in result.reason


def test_usb_write_error_is_unclear(usb_bus):
    bus, _ = usb_bus
    bus[(0x0416, 0x5011)].fail_write = True
    result = UsbPrinter(0x0416, 0x5011).send(JOB)
    assert result.outcome is SendOutcome.UNCLEAR, result  # part of it may be on paper


def test_serial_printer_writes_the_job_to_the_port():
    """A pseudo-terminal stands in for the COM port: what the printer end reads is the job."""
    import os

    controller, port = os.openpty()
    try:
        printer = printer_from_config(
            {"type": "serial", "device": os.ttyname(port), "baudrate": 19200}
        )
        result = printer.send(JOB)
        received = b""
        os.set_blocking(controller, False)
        deadline = time.monotonic() + 5
        while len(received) < len(JOB) and time.monotonic() < deadline:
            try:
                received += os.read(controller, 65536)
            except BlockingIOError:
                time.sleep(0.01)
    finally:
        os.close(controller)
        os.close(port)
    assert result.outcome is SendOutcome.PRINTED, result
    assert received == JOB  # raw: no newline translation on the way


def test_serial_port_missing_fails_without_printing(tmp_path):
    result = SerialPrinter(str(tmp_path / "ttyUSB9")).send(JOB)
    assert result.outcome is SendOutcome.FAILED, result
    assert "open" in result.reason
