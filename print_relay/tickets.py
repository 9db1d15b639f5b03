"""Tickets: a print-job message (print-job.v1 JSON, as a dict) rendered into ESC/POS bytes
for the printer, or into plain text for a terminal or file printer.

A copy is a Jinja2 template (``templates/<copy>.j2``) that writes a line-oriented markup;
this module lays the markup out for the paper width and turns it into bytes. Markup, one
instruction per line (blank lines are ignored):

Style prefixes, any number, for that line only::

    @center  @right  @left     alignment (left by default)
    @bold
    @big                        double width and height (half as many columns)
    @wide  @tall                double width only / double height only

then either plain text (wrapped to the paper) or one of::

    @row LEFT|RIGHT             LEFT wraps on the left, RIGHT flush right on its first line
    @item NAME|QTY              like @row, with QTY printed double size (picking quantities)
    @rule [CHAR]                a full-width separator of CHAR (default -)
    @qr DATA                    a QR code of DATA, centred
    @feed N                     N empty lines
    @blank                      one empty line
    @cut                        feed and cut the paper

Values inserted with ``{{ ... }}`` cannot change the markup: newlines and control
characters become spaces, ``|`` becomes ``｜`` and ``@`` becomes ``＠``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from print_relay import layout
from print_relay.escpos_out import TicketBytes

Copy = Literal["picking", "delivery", "slip", "test", "pick_list"]
# test: 打印测试 slips; pick_list: a group buy's consolidated picking list (百人团)
COPIES: tuple[str, ...] = ("picking", "delivery", "slip", "test", "pick_list")
TEMPLATES = Path(__file__).parent / "templates"

STYLES = {"@center", "@right", "@left", "@bold", "@big", "@wide", "@tall"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class MarkupError(ValueError):
    """A template wrote a line the markup does not know."""


# ---------------------------------------------------------------- laid-out lines


@dataclass
class Segment:
    text: str
    width: int = 1  # size multipliers
    height: int = 1


@dataclass
class Line:
    segments: list[Segment]
    align: str = "left"
    bold: bool = False

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass
class Qr:
    data: str


@dataclass
class Feed:
    lines: int


@dataclass
class Cut:
    pass


Op = Line | Qr | Feed | Cut


@dataclass
class _Style:
    align: str = "left"
    bold: bool = False
    width: int = 1
    height: int = 1
    flags: set[str] = field(default_factory=set)


def _parse_style(tokens: list[str]) -> tuple[_Style, list[str]]:
    style = _Style()
    while tokens and tokens[0] in STYLES:
        flag = tokens.pop(0)
        if flag in ("@center", "@right", "@left"):
            style.align = flag[1:]
        elif flag == "@bold":
            style.bold = True
        elif flag == "@big":
            style.width = style.height = 2
        elif flag == "@wide":
            style.width = 2
        elif flag == "@tall":
            style.height = 2
    return style, tokens


def _split_pair(rest: str, directive: str, lineno: int) -> tuple[str, str]:
    if "|" not in rest:
        raise MarkupError(f"template line {lineno}: {directive} needs LEFT|RIGHT, got {rest!r}")
    left, right = rest.rsplit("|", 1)
    return left.strip(), right.strip()


def lay_out(markup: str, paper_mm: int) -> list[Op]:
    """The markup laid out for ``paper_mm`` paper: lines that each fit the paper."""
    cols = layout.columns_for(paper_mm)
    ops: list[Op] = []
    for lineno, raw in enumerate(markup.splitlines(), 1):
        if not raw.strip():
            continue
        style, tokens = _parse_style(raw.strip().split(" "))
        head = tokens[0] if tokens else ""
        rest = " ".join(tokens[1:]).strip()
        room = cols // style.width

        def text_line(text: str, style: _Style = style) -> Line:
            return Line([Segment(text, style.width, style.height)], style.align, style.bold)

        if head == "@rule":
            ops.append(text_line(layout.rule(room, rest or "-")))
        elif head in ("@row", "@item"):
            left, right = _split_pair(rest, head, lineno)
            if head == "@row":
                for text in layout.row(left, right, room):
                    ops.append(Line([Segment(text, style.width, style.height)], "left", style.bold))
                continue
            # @item: the quantity is printed double size, so it takes twice its width
            qty_w = layout.width(right) * 2
            rows = layout.row(left, "", cols, right_width=qty_w)
            first = Line([Segment(rows[0], 1, style.height), Segment(right, 2, 2)])
            first.bold = style.bold
            ops.append(first)
            ops.extend(Line([Segment(t, 1, style.height)], "left", style.bold) for t in rows[1:])
        elif head == "@qr":
            if not rest:
                raise MarkupError(f"template line {lineno}: @qr needs data")
            ops.append(Qr(rest))
        elif head == "@feed":
            ops.append(Feed(int(rest or "1")))
        elif head == "@blank":
            ops.append(Feed(1))
        elif head == "@cut":
            ops.append(Cut())
        elif head.startswith("@"):
            raise MarkupError(f"template line {lineno}: unknown directive {head!r}")
        else:
            ops.extend(text_line(t) for t in layout.wrap(" ".join(tokens), room))
    return ops


# ---------------------------------------------------------------- the two outputs


def to_escpos(ops: list[Op]) -> bytes:
    """ESC/POS bytes: ``ESC @`` and ``FS &`` first, then every line in GBK."""
    out = TicketBytes().init().chinese(True)
    for op in ops:
        if isinstance(op, Line):
            out.align(op.align).bold(op.bold)
            for seg in op.segments:
                out.size(seg.width, seg.height).text(seg.text)
            out.line().size(1, 1).bold(False)
        elif isinstance(op, Qr):
            out.align("center").qr(op.data).line().align("left")
        elif isinstance(op, Feed):
            out.feed(op.lines)
        elif isinstance(op, Cut):
            out.cut()
    return out.build()


def to_text(ops: list[Op], paper_mm: int) -> str:
    """A plain-text preview: one string line per printed line, double-size text shown at
    normal size (it keeps its own line breaks), QR codes as ``[QR DATA]``."""
    cols = layout.columns_for(paper_mm)
    lines: list[str] = []
    for op in ops:
        if isinstance(op, Line):
            lines.append(layout.pad(op.text, cols, op.align).rstrip())
        elif isinstance(op, Qr):
            lines.append(layout.pad(f"[QR {op.data}]", cols, "center").rstrip())
        elif isinstance(op, Feed):
            lines.extend([""] * op.lines)
        elif isinstance(op, Cut):
            lines.append("~" * cols)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- templates


def _safe(value: Any) -> str:
    """Every ``{{ value }}``: no markup, no control characters."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", str(value))
    return text.replace("|", "｜").replace("@", "＠")


def yuan(fen: int) -> str:
    """Integer fen as ``¥12.34`` (no float touches money)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"


def _zone(name: str) -> timezone | ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # a store PC without tz data: China has no DST, so +08:00 is right for our stores
        return timezone(timedelta(hours=8))


def local_time(utc_iso: str | None, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    """A UTC ISO-8601 time printed in the store's time zone."""
    if not utc_iso:
        return ""
    moment = datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(tz)).strftime(fmt)


def picking_groups(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines grouped by zone and shelf, in walking order: dry goods first, fresh (cold)
    zones last, unknown places at the end of their kind."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        key = (line.get("zone") or "", line.get("shelf") or "")
        group = groups.setdefault(
            key, {"zone": key[0] or "未分区", "shelf": key[1], "fresh": False, "lines": []}
        )
        group["lines"].append(line)
        group["fresh"] = group["fresh"] or bool(line.get("fresh"))
    ordered = sorted(
        groups.items(),
        key=lambda kv: (kv[1]["fresh"], kv[0][0] == "", kv[0][0], kv[0][1] == "", kv[0][1]),
    )
    return [group for _, group in ordered]


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    finalize=_safe,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - the output is printer markup, not HTML
)
_ENV.filters["yuan"] = yuan


def markup(
    message: dict[str, Any],
    copy: Copy,
    paper_mm: int = 58,
    late_minutes: int = 0,
    *,
    reprint: bool = False,
) -> str:
    """The template's markup for one copy of the job (before layout). ``reprint=True``
    marks the copy 补打 REPRINT (the relay printing it again after an unclear outcome);
    ``kind: reprint`` jobs are marked anyway."""
    if copy not in COPIES:
        raise ValueError(f"unknown copy {copy!r}: expected one of {', '.join(COPIES)}")
    tz = message.get("store_timezone") or "Asia/Shanghai"
    context = {
        "job": message,
        "copy": copy,
        "cols": layout.columns_for(paper_mm),
        "reprint": bool(reprint) or message.get("kind") == "reprint",
        "late_minutes": max(int(late_minutes), 0),
        "groups": picking_groups(message.get("lines") or []),
        "created": local_time(message.get("created_at"), tz),
        "paid": local_time(message.get("paid_at"), tz),
        "cancelled": local_time((message.get("cancellation") or {}).get("at"), tz),
        "amended": local_time((message.get("amendment") or {}).get("at"), tz),
        "printed_day": message.get("business_day", ""),
    }
    return _ENV.get_template(f"{copy}.j2").render(context)


def render(
    message: dict[str, Any],
    copy: Copy,
    paper_mm: int = 58,
    late_minutes: int = 0,
    *,
    reprint: bool = False,
) -> bytes:
    """ESC/POS bytes of one copy (``picking``, ``delivery`` or ``slip``) of a print job.

    ``message`` is a print-job v1 message as parsed JSON; ``paper_mm`` is 58 (32 columns)
    or 80 (48 columns); ``late_minutes`` > 0 prints a "延迟 N 分钟" banner; ``reprint``
    prints "补打 REPRINT" (the job's ``kind: reprint`` does too).
    """
    text = markup(message, copy, paper_mm, late_minutes, reprint=reprint)
    return to_escpos(lay_out(text, paper_mm))


def render_text(
    message: dict[str, Any],
    copy: Copy,
    paper_mm: int = 58,
    late_minutes: int = 0,
    *,
    reprint: bool = False,
) -> str:
    """The same copy as plain text, for a terminal or a file printer."""
    text = markup(message, copy, paper_mm, late_minutes, reprint=reprint)
    return to_text(lay_out(text, paper_mm), paper_mm)
