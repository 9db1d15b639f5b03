"""Store TOP tiers (issue 16 item 5; docs/campaigns.md "Store TOP tiers"): the uptime
sampler, the month's inputs, the monthly scoring, what head office and store managers
read, and what campaigns call (``stores_in_tiers``, ``current_tiers``).

Reads per request: the stores listing (one Query), the months' items of every store
(BatchGetItem by 100) and, for a month scored live, each store's report_days of that
month (one Query per store, concurrently). Never a scan."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import msgspec
from pynamodb.exceptions import UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal, require_store_access
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, hours
from chalicelib.kernel.errors import BadRequest
from chalicelib.loyalty import programme_settings
from chalicelib.printing.relays import stores_health
from chalicelib.reports.models import ReportDayModel
from chalicelib.store_tiers import rules as r
from chalicelib.store_tiers import schemas as s
from chalicelib.store_tiers.models import StoreMonthModel, StoreTierMonthModel
from chalicelib.stores.models import StoreModel
from chalicelib.stores.service import get_store_model

log = logging.getLogger("daojia.store_tiers")

SETTINGS_AREA = "store_tiers"  # an item of loyalty_settings (programme_settings)
CHAIN_TZ = "Asia/Shanghai"
HISTORY_MONTHS = 12
MAX_WORKERS = 8
BATCH = 100


# --- settings ----------------------------------------------------------------------------


def settings() -> s.TierSettings:
    return programme_settings.read(SETTINGS_AREA, s.TierSettings)


def put_settings(principal: Principal, body: s.TierSettings) -> s.TierSettings:
    """Replace the thresholds, audited; 409 ``settings_changed`` on a concurrent edit."""
    return programme_settings.put(principal, SETTINGS_AREA, body, "store_tiers.settings")


def thresholds_of(body: s.TierSettings) -> dict[str, r.Threshold]:
    return {
        name: r.Threshold(th.t, th.o, th.p)
        for name, th in (("S", body.S), ("A", body.A), ("B", body.B))
    }


# --- months ------------------------------------------------------------------------------


def this_month(now: datetime | None = None, tz: str = CHAIN_TZ) -> str:
    return r.month_of((now or clock.now()).astimezone(hours.zone(tz)).date())


def last_complete_month(now: datetime | None = None) -> str:
    return r.previous_month(this_month(now))


def _check_month(month: str) -> str:
    if not r.valid_month(month):
        raise BadRequest("A month is written YYYY-MM.", code="bad_month", details={"month": month})
    return month


def _stores() -> list[StoreModel]:
    return sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)


# --- T: the uptime sampler ---------------------------------------------------------------


def sample_uptime(now: datetime | None = None) -> int:
    """One 5-minute sample: every store inside its business hours gets one slot counted
    on its month's item, up when it is active and its relay healthy (printing's health
    for head office). One UpdateItem per open store, conditional on the slot being new:
    a replayed or doubled run counts nothing twice. Returns the slots counted."""
    now = now or clock.now()
    slot = r.slot_of(now.timestamp())
    stores = _stores()
    healthy = {h.store_id: h.healthy for h in stores_health(stores, now)} if stores else {}
    counted = 0
    for st in stores:
        openings = [hours.Opening(int(h.day), h.open, h.close) for h in st.hours]
        if not hours.is_open(openings, st.timezone, now):
            continue
        up = 1 if st.active and healthy.get(st.store_id) else 0
        counted += _count_slot(st.store_id, this_month(now, st.timezone), slot, up)
    return counted


def _count_slot(store_id: str, month: str, slot: int, up: int) -> int:
    m = StoreMonthModel
    try:
        m(store_id, month).update(
            actions=[m.open_slots.add(1), m.up_slots.add(up), m.last_slot.set(slot)],
            condition=m.last_slot.does_not_exist() | (m.last_slot < slot),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        return 0  # this slot (or a later one) was counted already
    return 1


# --- O's denominator ---------------------------------------------------------------------


def set_transactions(
    principal: Principal, store_id: str, month: str, body: s.Transactions
) -> s.TransactionsView:
    """Head office enters a store's total transactions of a month (audited)."""
    _check_month(month)
    get_store_model(store_id)  # 404 for an unknown store
    m = StoreMonthModel
    try:
        before = m.get(store_id, month, consistent_read=True).transactions
    except m.DoesNotExist:
        before = None
    at = clock.now_iso()
    m(store_id, month).update(
        actions=[
            m.transactions.set(body.transactions),
            m.transactions_by.set(principal.subject),
            m.transactions_at.set(at),
        ]
    )
    audit.record(
        principal,
        "store_tiers.transactions",
        audit.Target("store_month", f"{store_id}#{month}", store_id),
        {"transactions": before},
        {"transactions": body.transactions},
    )
    return s.TransactionsView(
        store_id=store_id,
        month=month,
        transactions=body.transactions,
        updated_by=principal.subject,
        updated_at=at,
    )


# --- a month's inputs and scores ---------------------------------------------------------


def _batch_get(model: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for start in range(0, len(keys), BATCH):
        for item in model.batch_get(keys[start : start + BATCH]):
            out[(item.store_id, item.month)] = item
    return out


def _report_totals(store_id: str, month: str) -> tuple[int, int, int]:
    """(orders, on_time, timed) of the store's month, from its report_days (one Query)."""
    first, last = r.month_days(month)
    orders = on_time = timed = 0
    for day in ReportDayModel.query(
        store_id,
        ReportDayModel.day.between(first, last),
        attributes_to_get=["store_id", "day", "orders", "on_time", "timed"],
    ):
        orders += int(day.orders or 0)
        on_time += int(day.on_time or 0)
        timed += int(day.timed or 0)
    return orders, on_time, timed


def month_inputs(store_ids: list[str], month: str) -> dict[str, r.Inputs]:
    """Each store's inputs for the month: its store_months item and report_days."""
    items = _batch_get(StoreMonthModel, [(sid, month) for sid in store_ids])
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        totals = dict(
            zip(store_ids, pool.map(lambda sid: _report_totals(sid, month), store_ids), strict=True)
        )
    out = {}
    for sid in store_ids:
        item = items.get((sid, month))
        orders, on_time, timed = totals[sid]
        out[sid] = r.Inputs(
            open_slots=int(getattr(item, "open_slots", None) or 0),
            up_slots=int(getattr(item, "up_slots", None) or 0),
            orders=orders,
            transactions=(
                None if getattr(item, "transactions", None) is None else int(item.transactions)  # type: ignore[union-attr]
            ),
            on_time=on_time,
            timed=timed,
        )
    return out


def _view(
    st: StoreModel, month: str, inputs: r.Inputs, score: r.Score, provisional: bool
) -> s.StoreTierMonth:
    return s.StoreTierMonth(
        store_id=st.store_id,
        name=st.name,
        month=month,
        tier=score.tier,  # type: ignore[arg-type]
        provisional=provisional,
        t_bp=score.t_bp,
        o_bp=score.o_bp,
        p_bp=score.p_bp,
        unknown=list(score.unknown),  # type: ignore[arg-type]
        inputs=s.TierInputs(
            open_slots=inputs.open_slots,
            up_slots=inputs.up_slots,
            orders=inputs.orders,
            transactions=inputs.transactions,
            on_time=inputs.on_time,
            timed=inputs.timed,
        ),
    )


def _from_item(st: StoreModel, item: StoreTierMonthModel) -> s.StoreTierMonth:
    inputs = r.Inputs(
        open_slots=int(item.open_slots),
        up_slots=int(item.up_slots),
        orders=int(item.orders),
        transactions=None if item.transactions is None else int(item.transactions),
        on_time=int(item.on_time),
        timed=int(item.timed),
    )
    unknown = tuple(n for n in ("t", "o", "p") if getattr(item, f"{n}_bp") is None)
    score = r.Score(
        None if item.t_bp is None else int(item.t_bp),
        None if item.o_bp is None else int(item.o_bp),
        None if item.p_bp is None else int(item.p_bp),
        item.tier,
        unknown,
    )
    return _view(st, item.month, inputs, score, provisional=False)


def score_month(month: str) -> int:
    """Score every store's month and write its store_tier_months item whole (a PutItem:
    a rerun rewrites the same item). Returns the stores scored."""
    _check_month(month)
    stores = _stores()
    th_body = settings()
    thresholds = thresholds_of(th_body)
    inputs = month_inputs([st.store_id for st in stores], month)
    at = clock.now_iso()
    with StoreTierMonthModel.batch_write() as batch:
        for st in stores:
            got = inputs[st.store_id]
            sc = r.score(got, thresholds)
            batch.save(
                StoreTierMonthModel(
                    st.store_id,
                    month,
                    tier=sc.tier,
                    t_bp=sc.t_bp,
                    o_bp=sc.o_bp,
                    p_bp=sc.p_bp,
                    open_slots=got.open_slots,
                    up_slots=got.up_slots,
                    orders=got.orders,
                    transactions=got.transactions,
                    on_time=got.on_time,
                    timed=got.timed,
                    thresholds=json.dumps(msgspec.to_builtins(th_body), sort_keys=True),
                    scored_at=at,
                )
            )
    log.info("store tiers: %s scored for %d store(s)", month, len(stores))
    return len(stores)


def score_previous_month(now: datetime | None = None) -> int:
    """The monthly job: last month, for every store (idempotent)."""
    return score_month(last_complete_month(now))


def _rows(stores: list[StoreModel], month: str) -> list[s.StoreTierMonth]:
    """The month of each store: its scored item when the month is over and scored, else
    scored live (provisional)."""
    scored: dict[tuple[str, str], Any] = {}
    if month < this_month():
        scored = _batch_get(StoreTierMonthModel, [(st.store_id, month) for st in stores])
    live = [st for st in stores if (st.store_id, month) not in scored]
    inputs = month_inputs([st.store_id for st in live], month) if live else {}
    thresholds = thresholds_of(settings()) if live else {}
    out = []
    for st in stores:
        item = scored.get((st.store_id, month))
        if item is not None:
            out.append(_from_item(st, item))
        else:
            got = inputs[st.store_id]
            out.append(_view(st, month, got, r.score(got, thresholds), provisional=True))
    return out


def listing(principal: Principal, query: s.TiersQuery) -> s.StoreTierPage:
    """Every store's month (head office); a store manager's own store only."""
    month = _check_month(query.month) if query.month else this_month()
    stores = _stores() if principal.is_hq else [get_store_model(principal.store_id or "")]
    rows = _rows(stores, month)
    distribution = {t: 0 for t in r.TIERS}
    for row in rows:
        distribution[row.tier] += 1
    return s.StoreTierPage(
        month=month, thresholds=settings(), distribution=distribution, stores=rows
    )


def history(principal: Principal, store_id: str) -> s.StoreTierHistory:
    """A store's scored months (up to 12, oldest first) and this month live."""
    require_store_access(principal, store_id)
    st = get_store_model(store_id)
    month = this_month()
    first = r.months_back(month, HISTORY_MONTHS)[0]
    items = StoreTierMonthModel.query(
        store_id, StoreTierMonthModel.month.between(first, r.previous_month(month))
    )
    months = [_from_item(st, item) for item in items]
    months += _rows([st], month)
    return s.StoreTierHistory(store_id=st.store_id, name=st.name, months=months)


# --- what campaigns call -----------------------------------------------------------------


def current_tiers() -> dict[str, str]:
    """store_id -> the tier of its last complete month's score, for every active store
    scored (a store not scored for last month: its score the month before, else absent)."""
    stores = [st for st in _stores() if st.active]
    month = last_complete_month()
    found = _batch_get(StoreTierMonthModel, [(st.store_id, month) for st in stores])
    missing = [st.store_id for st in stores if (st.store_id, month) not in found]
    if missing:  # e.g. on the 1st before the monthly job ran
        earlier = r.previous_month(month)
        found.update(_batch_get(StoreTierMonthModel, [(sid, earlier) for sid in missing]))
    return {item.store_id: item.tier for item in found.values()}


def stores_in_tiers(tiers: list[str]) -> list[str]:
    """The active stores whose latest scored tier is one of ``tiers`` (e.g. ["S", "A"]),
    sorted."""
    wanted = set(tiers)
    return sorted(sid for sid, tier in current_tiers().items() if tier in wanted)
