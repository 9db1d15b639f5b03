"""Segments' pure rules (docs/segments.md, "Segments"): RFM quintile cut-offs, scores and
named groups, lifecycle stages in Shanghai's calendar months, the 20/80 view, the
snapshot's binary format and the bitmap index that counts a filter.

No AWS here: the nightly job (segment_snapshot.py) feeds rows in, the counting Lambda
(segments.py) reads the bytes back. Bitmaps are Python ints, one bit per snapshot row
(rows sorted by spend ascending): a count is ANDs, ORs and ``int.bit_count()``.
"""

from __future__ import annotations

import json
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any

# --- RFM ---------------------------------------------------------------------------------

HIGH = 4  # a score of 4 or 5 is "high" (the top two quintiles), 1-3 "low"

# (R high, F high, M high) -> group id; the zh-CN names are the admin i18n's labels.
GROUPS: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",  # 重要价值
    (False, True, True): "important_recall",  # 重要唤回
    (True, False, True): "important_develop",  # 重要深耕
    (False, False, True): "important_retain",  # 重要挽留
    (True, True, False): "potential",  # 潜力
    (True, False, False): "new",  # 新客
    (False, True, False): "maintain",  # 一般维持
    (False, False, False): "lost",  # 流失
}
NO_ORDERS = "no_orders"
GROUP_IDS: tuple[str, ...] = (*GROUPS.values(), NO_ORDERS)


def cutoffs(values: Sequence[int]) -> list[int]:
    """The 4 quintile cut-offs of ``values`` (ascending): the values at ranks
    ``k * n // 5`` (k = 1..4) of the sorted list. Empty: no cut-offs."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[k * n // 5] for k in range(1, 5)] if n else []


def score_up(value: int, cuts: Sequence[int]) -> int:
    """Score 1-5 where more is better (frequency, monetary): 1 + the cut-offs the value
    reaches. A value equal to a cut-off scores as every other value equal to it (the
    score depends on the value only), so ties never split across two scores."""
    return 1 + bisect_right(cuts, value)


def score_down(value: int, cuts: Sequence[int]) -> int:
    """Score 1-5 where less is better (recency in days): ``cuts`` are the ascending
    cut-offs of the NEGATED values, so the most recent fifth scores 5."""
    return 1 + bisect_right(cuts, -value)


def group(r: int, f: int, m: int) -> str:
    return GROUPS[(r >= HIGH, f >= HIGH, m >= HIGH)]


# --- lifecycle ---------------------------------------------------------------------------

STAGES = ("joining", "awakening", "churn_recall", "dormant", "lost")
# whole calendar months since the reference day -> stage: < 3 joining (its 1st-3rd
# month), < 6 awakening (4th-6th), < 9 churn_recall (7th-9th), < 12 dormant, else lost
STAGE_MONTHS = (3, 6, 9, 12)


def months_between(earlier: date, today: date) -> int:
    """Whole calendar months from ``earlier`` to ``today`` (both Shanghai local days), the
    rule of the member profile and the recall list (rules.months_between): a month has
    passed on the same day of a later month (01-31 -> 03-01 is 1 month: February has no
    31st)."""
    months = (today.year - earlier.year) * 12 + today.month - earlier.month
    return months - 1 if today.day < earlier.day else months


def stage(reference: date, today: date) -> str:
    """The stage of a member whose last completed order (or, without one, joining) was
    on ``reference``."""
    m = months_between(reference, today)
    return STAGES[bisect_right(STAGE_MONTHS, m)]


def stage_of_day(day_number: int, today: date) -> str:
    return stage(date.fromordinal(day_number), today)


# --- 20/80 -------------------------------------------------------------------------------


def pareto(spends_ascending: Sequence[int], points: int = 20) -> tuple[float, list[list[float]]]:
    """(share of spend made by the top 20 % of members, curve) over members with orders,
    their spend sorted ascending. The top 20 % is the ``ceil(n / 5)`` largest; the curve
    has ``points`` + 1 points [members %, spend %] from the biggest spenders down
    (0, 0) ... (100, 100)."""
    n = len(spends_ascending)
    total = sum(spends_ascending)
    if not n or total <= 0:
        return 0.0, [[0.0, 0.0], [100.0, 100.0]]
    desc = list(reversed(spends_ascending))
    prefix = [0]
    for v in desc:
        prefix.append(prefix[-1] + v)
    top = -(-n // 5)
    curve = []
    for p in range(points + 1):
        k = -(-n * p // points)
        curve.append([round(100 * k / n, 2), round(100 * prefix[k] / total, 2)])
    return round(prefix[top] / total, 4), curve


# --- the snapshot's format ---------------------------------------------------------------

MAGIC = b"DJSEG1"
MAX_TAGS = 64  # the tag bitset is one unsigned 64-bit number per row
NONE = 0  # index 0 of every value table: "none" (no level, no source, no store)


@dataclass(slots=True)
class Row:
    """One member as the nightly job sees it (slots: a million of them in the job)."""

    customer_id: str
    spend_fen: int = 0
    orders: int = 0
    last_day: int = 0  # date.toordinal() of the last completed order, 0: none
    join_day: int = 0  # date.toordinal() of registration (Shanghai)
    level: str | None = None
    source: str | None = None
    store: str | None = None  # favourite store, or the home store without orders
    consent: str | None = None  # granted | revoked | None (never asked)
    paid: bool = False
    tags: Iterable[str] = ()


# columns: name -> array typecode
COLUMNS = {
    "spend": "q",
    "orders": "I",
    "last_day": "i",
    "join_day": "i",
    "ref_day": "i",  # the lifecycle's reference: the last order, or joining without one
    "r": "B",
    "f": "B",
    "m": "B",
    "group": "B",
    "level": "B",
    "source": "B",
    "store": "H",
    "consent": "B",  # 0 never asked, 1 granted, 2 revoked
    "paid": "B",
    "tags": "Q",
    "id_offsets": "I",
}
CONSENT = {None: 0, "granted": 1, "revoked": 2}


@dataclass
class Snapshot:
    """The decoded snapshot: ``meta`` (as_of, counts, cut-offs, value tables, pareto, new
    members) and the columns, row i = the i-th smallest spend."""

    meta: dict[str, Any]
    cols: dict[str, array[Any]]
    ids_blob: bytes = b""

    @property
    def n(self) -> int:
        return len(self.cols["spend"])

    def customer_id(self, i: int) -> str:
        off = self.cols["id_offsets"]
        return self.ids_blob[off[i] : off[i + 1]].decode()


def _table(values: Iterable[str | None], limit: int, what: str) -> list[str]:
    names = sorted({v for v in values if v})
    if len(names) + 1 > limit:
        raise ValueError(f"more than {limit - 1} {what}s")
    return ["", *names]


def kept_tags(rows: list[Row]) -> tuple[list[str], list[str]]:
    """The tags the snapshot can hold (MAX_TAGS bits a row): all of them, or the most
    used ones (ties by name), so a chain that typed too many manual tags still gets its
    nightly snapshot; the others are listed in the snapshot (``tags_left_out``) and a
    segment on one of them is refused (segments.py)."""
    used = Counter(t for r in rows for t in r.tags)
    if len(used) <= MAX_TAGS:
        return sorted(used), []
    ranked = sorted(used, key=lambda t: (-used[t], t))
    return sorted(ranked[:MAX_TAGS]), sorted(ranked[MAX_TAGS:])


def build(rows: list[Row], *, as_of: date, extra: dict[str, Any] | None = None) -> Snapshot:
    """Score, sort by spend and lay the rows out as columns. ``as_of``: the day the
    recency is counted to (the snapshot's day, Shanghai)."""
    buyers = [r for r in rows if r.orders > 0]
    r_cuts = cutoffs([-(as_of.toordinal() - r.last_day) for r in buyers])
    f_cuts = cutoffs([r.orders for r in buyers])
    m_cuts = cutoffs([r.spend_fen for r in buyers])
    rows = sorted(rows, key=lambda r: (r.spend_fen, r.customer_id))
    levels = _table((r.level for r in rows), 256, "level")
    sources = _table((r.source for r in rows), 256, "source")
    stores = _table((r.store for r in rows), 65536, "store")
    tag_names, tags_left_out = kept_tags(rows)
    tag_bit = {t: 1 << i for i, t in enumerate(tag_names)}
    level_ix = {v: i for i, v in enumerate(levels)}
    source_ix = {v: i for i, v in enumerate(sources)}
    store_ix = {v: i for i, v in enumerate(stores)}
    group_ix = {g: i for i, g in enumerate(GROUP_IDS)}
    cols: dict[str, array[Any]] = {k: array(t) for k, t in COLUMNS.items()}
    blob = bytearray()
    cols["id_offsets"].append(0)
    for r in rows:
        if r.orders > 0:
            rs = score_down(as_of.toordinal() - r.last_day, r_cuts)
            fs, ms = score_up(r.orders, f_cuts), score_up(r.spend_fen, m_cuts)
            g = group(rs, fs, ms)
        else:
            rs = fs = ms = 0
            g = NO_ORDERS
        blob += r.customer_id.encode()
        cols["id_offsets"].append(len(blob))
        cols["spend"].append(r.spend_fen)
        cols["orders"].append(r.orders)
        cols["last_day"].append(r.last_day)
        cols["join_day"].append(r.join_day)
        cols["ref_day"].append(r.last_day if r.orders > 0 and r.last_day else r.join_day)
        cols["r"].append(rs)
        cols["f"].append(fs)
        cols["m"].append(ms)
        cols["group"].append(group_ix[g])
        cols["level"].append(level_ix[r.level or ""])
        cols["source"].append(source_ix[r.source or ""])
        cols["store"].append(store_ix[r.store or ""])
        cols["consent"].append(CONSENT.get(r.consent, 0))
        cols["paid"].append(1 if r.paid else 0)
        bits = 0
        for t in r.tags:
            bits |= tag_bit.get(t, 0)
        cols["tags"].append(bits)
    top20, curve = pareto([r.spend_fen for r in rows if r.orders > 0])
    meta = {
        "as_of": as_of.isoformat(),
        "members": len(rows),
        "with_orders": len(buyers),
        "rfm_cutoffs": {
            # recency in days since the last order (lower is better): score 5 at or below
            # the first, 4 at or below the second... (the cut-offs of -days, negated)
            "recency_days": [-c for c in r_cuts],
            "frequency_orders": f_cuts,
            "monetary_fen": m_cuts,
        },
        "levels": levels,
        "sources": sources,
        "stores": stores,
        "tags": tag_names,
        "tags_left_out": tags_left_out,
        "groups": list(GROUP_IDS),
        "pareto": {"top20_share": top20, "curve": curve},
        **(extra or {}),
    }
    return Snapshot(meta, cols, bytes(blob))


def encode(snap: Snapshot) -> bytes:
    """One zlib-compressed object: magic, header JSON, then each column's raw bytes
    (little-endian: the Lambda's byte order) and the ids' UTF-8 blob."""
    header = dict(snap.meta, columns=list(COLUMNS), lengths=[len(snap.cols[c]) for c in COLUMNS])
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    parts = [MAGIC, struct.pack("<I", len(head)), head]
    for name in COLUMNS:
        parts.append(snap.cols[name].tobytes())
    parts.append(snap.ids_blob)
    return zlib.compress(b"".join(parts), 6)


def decode(data: bytes) -> Snapshot:
    raw = zlib.decompress(data)
    if not raw.startswith(MAGIC):
        raise ValueError("not a segments snapshot")
    at = len(MAGIC)
    (hlen,) = struct.unpack_from("<I", raw, at)
    at += 4
    meta = json.loads(raw[at : at + hlen])
    at += hlen
    cols: dict[str, array[Any]] = {}
    for name, length in zip(meta.pop("columns"), meta.pop("lengths"), strict=True):
        col = array(COLUMNS[name])
        size = length * col.itemsize
        col.frombytes(raw[at : at + size])
        at += size
        cols[name] = col
    return Snapshot(meta, cols, raw[at:])


# --- bitmaps -----------------------------------------------------------------------------


def _bits(byte_per_row: bytes, table: bytes) -> int:
    """One bit per row from one byte per row: ``table`` maps each byte value to b"0" or
    b"1"; reversed so that row 0 is the lowest bit; parsed in C by int(..., 2)."""
    if not byte_per_row:
        return 0
    return int(byte_per_row.translate(table)[::-1], 2)


def _eq_table(value: int) -> bytes:
    return bytes(0x31 if b == value else 0x30 for b in range(256))


def _ge_table(value: int) -> bytes:
    return bytes(0x31 if b >= value else 0x30 for b in range(256))


def _bit_table(bit: int) -> bytes:
    return bytes(0x31 if b >> bit & 1 else 0x30 for b in range(256))


def _bytes_of(col: array[Any], byte: int) -> bytes:
    """The ``byte``-th byte of every row of a fixed-width column (little-endian)."""
    return col.tobytes()[byte :: col.itemsize]


@dataclass
class SegmentFilter:
    """Empty lists and None: no condition. Values are ids (levels "V3", sources
    "shelf", store ids, tag names, group ids, stage ids)."""

    tags_any: list[str] = field(default_factory=list)
    tags_all: list[str] = field(default_factory=list)
    rfm_groups: list[str] = field(default_factory=list)
    lifecycle: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    spend_min_fen: int | None = None
    spend_max_fen: int | None = None
    orders_min: int | None = None
    paid: bool | None = None
    consent: list[str] = field(default_factory=list)  # granted | revoked | unknown


class Index:
    """Bitmaps of one snapshot, built when first needed and kept (lifecycle: per day)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.n = snap.n
        self.all = (1 << self.n) - 1
        self._cache: dict[Any, int] = {}
        self._planes: list[int] | None = None
        self._splits: dict[str, tuple[bytes, bytes]] = {}
        self._spend_min = snap.cols["spend"][0] if self.n else 0  # sorted ascending

    def _value(self, col: str, ix: int) -> int:
        key = (col, ix)
        got = self._cache.get(key)
        if got is None:
            c = self.snap.cols[col]
            if c.itemsize == 1:
                got = _bits(c.tobytes(), _eq_table(ix))
            else:  # 2 bytes (stores): both bytes equal (each byte's run split once)
                lo, hi = self._split(col)
                got = _bits(lo, _eq_table(ix & 255))
                if hi.strip(b"\0"):  # more than 255 stores
                    got &= _bits(hi, _eq_table(ix >> 8))
                elif ix >> 8:
                    got = 0
            self._cache[key] = got
        return got

    def _split(self, col: str) -> tuple[bytes, bytes]:
        if col not in self._splits:
            c = self.snap.cols[col]
            self._splits[col] = (_bytes_of(c, 0), _bytes_of(c, 1))
        return self._splits[col]

    def _named(self, col: str, table: str, names: list[str]) -> int:
        values = self.snap.meta[table]
        out = 0
        for name in names:
            if name in values:
                out |= self._value(col, values.index(name))
        return out

    def tag(self, name: str) -> int:
        tags = self.snap.meta["tags"]
        if name not in tags:
            return 0
        key = ("tag", name)
        if key not in self._cache:
            t = tags.index(name)
            self._cache[key] = _bits(_bytes_of(self.snap.cols["tags"], t // 8), _bit_table(t % 8))
        return self._cache[key]

    def stage(self, name: str, today: date) -> int:
        key = ("stage", today)
        if key not in self._cache:
            self._stages(today)
        return self._cache.get(("stage", today, name), 0)

    def _stages(self, today: date) -> None:
        # the reference day: the last order, or joining without one (0: not known,
        # counted as joining); a few thousand distinct days, one stage each
        ref = self.snap.cols["ref_day"]
        code = {d: STAGES.index(stage_of_day(d, today)) if d > 0 else 0 for d in set(ref)}
        codes = bytes(map(code.__getitem__, ref))
        for i, name in enumerate(STAGES):
            self._cache[("stage", today, name)] = _bits(codes, _eq_table(i))
        for k in [k for k in self._cache if isinstance(k, tuple) and k[0] == "stage"]:
            if k[1] != today:  # yesterday's stages
                del self._cache[k]
        self._cache[("stage", today)] = 1

    def orders_at_least(self, k: int) -> int:
        if k <= 0:
            return self.all
        key = ("orders", k)
        if key not in self._cache:
            orders = self.snap.cols["orders"]
            if k <= 255:
                capped = bytes(map(min, orders, repeat(255)))
                self._cache[key] = _bits(capped, _ge_table(k))
            else:
                self._cache[key] = sum(1 << i for i, o in enumerate(orders) if o >= k)
        return self._cache[key]

    def spend_range(self, lo_fen: int | None, hi_fen: int | None) -> int:
        """Rows with lo <= spend <= hi: a contiguous run of the spend-sorted rows."""
        spend = self.snap.cols["spend"]
        lo = 0 if lo_fen is None else bisect_left(spend, lo_fen)
        hi = self.n if hi_fen is None else bisect_right(spend, hi_fen)
        if hi <= lo:
            return 0
        return ((1 << hi) - 1) ^ ((1 << lo) - 1)

    def select(self, f: SegmentFilter, today: date) -> int:
        mask = self.all
        if f.tags_any:
            any_ = 0
            for t in f.tags_any:
                any_ |= self.tag(t)
            mask &= any_
        for t in f.tags_all:
            mask &= self.tag(t)
        if f.rfm_groups:
            mask &= self._named("group", "groups", f.rfm_groups)
        if f.lifecycle:
            st = 0
            for name in f.lifecycle:
                st |= self.stage(name, today)
            mask &= st
        if f.levels:
            mask &= self._named("level", "levels", f.levels)
        if f.sources:
            mask &= self._named("source", "sources", f.sources)
        if f.stores:
            mask &= self._named("store", "stores", f.stores)
        if f.spend_min_fen is not None or f.spend_max_fen is not None:
            mask &= self.spend_range(f.spend_min_fen, f.spend_max_fen)
        if f.orders_min is not None:
            mask &= self.orders_at_least(f.orders_min)
        if f.paid is not None:
            paid = self._value("paid", 1)
            mask &= paid if f.paid else self.all ^ paid
        if f.consent:
            c = 0
            for name in f.consent:
                c |= self._value("consent", {"unknown": 0, "granted": 1, "revoked": 2}[name])
            mask &= c
        return mask

    def revoked(self) -> int:
        return self._value("consent", CONSENT["revoked"])

    def granted(self) -> int:
        return self._value("consent", CONSENT["granted"])

    def spend_of(self, mask: int) -> int:
        """Sum of the selected rows' spend, bit-sliced: sum over bit planes b of
        2^b x |mask AND plane_b| (planes of spend - the smallest spend, built once)."""
        if self._planes is None:
            spend = self.snap.cols["spend"]
            low = self._spend_min
            raw = spend if low == 0 else array("q", (v - low for v in spend))
            top = (raw[-1] if self.n else 0).bit_length()  # sorted: the last is the largest
            self._planes = [_bits(_bytes_of(raw, b // 8), _bit_table(b % 8)) for b in range(top)]
        total = sum((mask & p).bit_count() << b for b, p in enumerate(self._planes))
        return total + self._spend_min * mask.bit_count()


def rows_of(mask: int) -> Iterable[int]:
    """The row numbers set in ``mask``, ascending (one pass over its binary digits)."""
    digits = bin(mask)[:1:-1]  # lowest bit first
    i = digits.find("1")
    while i >= 0:
        yield i
        i = digits.find("1", i + 1)
