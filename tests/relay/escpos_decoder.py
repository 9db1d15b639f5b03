"""A small ESC/POS decoder for tests, written independently of python-escpos: it parses
printer bytes back into events and printed lines, and flags anything it does not know."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    raw: bytes
    text: str
    width: int
    height: int
    bold: bool


@dataclass
class Line:
    segments: list[Segment]
    align: int

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def columns(self) -> int:
        """Printed columns: each byte is one half-width cell (a GBK character is two),
        times the width multiplier."""
        return sum(len(s.raw) * s.width for s in self.segments)

    @property
    def bold(self) -> bool:
        return any(s.bold for s in self.segments if s.raw.strip())

    @property
    def big(self) -> bool:
        return any(s.width == 2 and s.height == 2 for s in self.segments if s.raw.strip())


@dataclass
class Decoded:
    events: list[tuple] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    qr_payloads: list[str] = field(default_factory=list)
    cuts: int = 0
    unknown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    def index_of(self, kind: str) -> int:
        return next(i for i, e in enumerate(self.events) if e[0] == kind)


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.chinese = False
        self.bold = False
        self.align = 0
        self.width = 1
        self.height = 1


def decode(data: bytes) -> Decoded:
    """Parse ``data``. Text is decoded as GBK only while Chinese mode (``FS &``) is on; a
    byte >= 0x80 outside Chinese mode, or an invalid GBK sequence (e.g. the 4-byte
    GB18030 form), is recorded in ``errors``; unknown commands in ``unknown``."""
    out = Decoded()
    st = _State()
    segments: list[Segment] = []
    buf = bytearray()
    i = 0

    def flush_text() -> None:
        if not buf:
            return
        raw = bytes(buf)
        text = raw.decode("gbk") if st.chinese else raw.decode("ascii", errors="replace")
        segments.append(Segment(raw, text, st.width, st.height, st.bold))
        out.events.append(("text", text))
        buf.clear()

    def end_line() -> None:
        flush_text()
        out.lines.append(Line(list(segments), st.align))
        segments.clear()

    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == 0x1B:  # ESC
            flush_text()
            cmd = data[i + 1 : i + 2]
            arg = data[i + 2] if i + 2 < n else None
            if cmd == b"@":
                st.reset()
                out.events.append(("init",))
                i += 2
            elif cmd == b"E":
                st.bold = bool(arg & 1)
                out.events.append(("bold", st.bold))
                i += 3
            elif cmd == b"a":
                st.align = arg
                out.events.append(("align", arg))
                i += 3
            elif cmd == b"d":
                out.events.append(("feed", arg))
                i += 3
            elif cmd == b"!":
                st.width = 2 if arg & 0x20 else 1
                st.height = 2 if arg & 0x10 else 1
                st.bold = bool(arg & 0x08)
                out.events.append(("mode", arg))
                i += 3
            else:
                out.unknown.append(f"ESC {cmd!r} at {i}")
                i += 2
        elif b == 0x1C:  # FS
            flush_text()
            cmd = data[i + 1 : i + 2]
            if cmd == b"&":
                st.chinese = True
                out.events.append(("chinese", True))
            elif cmd == b".":
                st.chinese = False
                out.events.append(("chinese", False))
            else:
                out.unknown.append(f"FS {cmd!r} at {i}")
            i += 2
        elif b == 0x1D:  # GS
            flush_text()
            cmd = data[i + 1 : i + 2]
            if cmd == b"!":
                arg = data[i + 2]
                st.width = (arg >> 4) + 1
                st.height = (arg & 0x0F) + 1
                out.events.append(("size", st.width, st.height))
                i += 3
            elif cmd == b"V":
                mode = data[i + 2]
                out.cuts += 1
                out.events.append(("cut", mode))
                i += 4 if mode in (65, 66) else 3
            elif cmd == b"(" and data[i + 2 : i + 3] == b"k":
                length = data[i + 3] | (data[i + 4] << 8)
                body = data[i + 5 : i + 5 + length]
                cn, fn = body[0], body[1]
                if cn != 0x31:
                    out.unknown.append(f"GS ( k cn={cn} at {i}")
                elif fn == 0x50:  # store QR data: cn fn m data
                    payload = body[3:].decode("ascii")
                    out.qr_payloads.append(payload)
                    out.events.append(("qr_store", payload))
                elif fn == 0x51:
                    out.events.append(("qr_print",))
                elif fn in (0x41, 0x43, 0x45):  # model, module size, error correction
                    out.events.append(("qr_setting", fn, body[2]))
                else:
                    out.unknown.append(f"GS ( k fn={fn:#x} at {i}")
                i += 5 + length
            else:
                out.unknown.append(f"GS {cmd!r} at {i}")
                i += 2
        elif b < 0x20 or b == 0x7F:
            flush_text()
            out.unknown.append(f"control byte {b:#04x} at {i}")
            i += 1
        elif b < 0x80:
            buf.append(b)
            i += 1
        else:
            second = data[i + 1] if i + 1 < n else -1
            if not st.chinese:
                out.errors.append(f"byte {b:#04x} outside Chinese mode at {i}")
                i += 1
            elif 0x81 <= b <= 0xFE and 0x40 <= second <= 0xFE and second != 0x7F:
                buf += data[i : i + 2]
                i += 2
            else:
                out.errors.append(f"not a 2-byte GBK sequence at {i}: {data[i : i + 4]!r}")
                i += 1
    flush_text()
    if segments:
        out.lines.append(Line(list(segments), st.align))
    return out
