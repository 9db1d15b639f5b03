"""Demo data into the local stack, idempotently.

``seed()`` writes the stores, catalogue, per-store prices and stock, members and staff of
``infra/local/demo_data.py`` through the service layer, so the data passes the same rules
as the API's. Running it again changes nothing and reports everything as unchanged:
existing stores and staff accounts are left alone (never updated), members have fixed ids,
and the catalogue goes through the ERP import functions, which write only rows that differ.

The environment (DAOJIA_*, AWS_ENDPOINT_URL, region, fake credentials) must be set before
this module is imported, because the API's config and models read it at import time. The
local stack therefore runs it as a child process::

    python -m infra.local.seed --create-resources --json

SECURITY: the demo staff passwords are local-only; ``seed()`` refuses any stage but
``local`` and the command line refuses an AWS endpoint that is not on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

PREFIX = "daojia-local"
PRODUCT_BATCH = 100  # rows per apply_products call (one BatchGetItem)
STORE_ITEM_BATCH = 250  # rows per apply_store_items call


@dataclass
class Counts:
    """What seeding did to one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class SeedReport:
    """Per kind of record: created, updated, unchanged; and how long it took."""

    stores: Counts = field(default_factory=Counts)
    products: Counts = field(default_factory=Counts)
    store_items: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)
    member_qr_codes: Counts = field(default_factory=Counts)
    staff: Counts = field(default_factory=Counts)
    coupon_templates: Counts = field(default_factory=Counts)
    promotions: Counts = field(default_factory=Counts)
    points_entries: Counts = field(default_factory=Counts)
    mall_rewards: Counts = field(default_factory=Counts)
    seconds: float = 0.0

    KINDS = (
        "stores",
        "products",
        "store_items",
        "coupon_templates",
        "promotions",
        "member_qr_codes",
        "members",
        "staff",
        "points_entries",
        "mall_rewards",
    )

    def counts(self) -> dict[str, Counts]:
        return {kind: getattr(self, kind) for kind in self.KINDS}

    @property
    def all_unchanged(self) -> bool:
        """True when this run wrote nothing (the data was already there)."""
        return all(c.created == 0 and c.updated == 0 for c in self.counts().values())

    def as_dict(self) -> dict[str, Any]:
        return {**{k: asdict(c) for k, c in self.counts().items()}, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeedReport:
        report = cls(seconds=float(data.get("seconds", 0.0)))
        for kind in cls.KINDS:
            setattr(report, kind, Counts(**data.get(kind, {})))
        return report

    def summary(self) -> str:
        """One line, e.g. ``stores 4 new · products 246 new · ... (1.2 s)``."""
        parts = []
        for kind, c in self.counts().items():
            bits = [f"{n} {label}" for n, label in ((c.created, "new"), (c.updated, "updated"))]
            bits = [b for b in bits if not b.startswith("0 ")]
            if c.unchanged:
                bits.append(f"{c.unchanged} unchanged")
            parts.append(f"{kind.replace('_', ' ')} {', '.join(bits) or 'none'}")
        return " · ".join(parts) + f" ({self.seconds:.1f} s)"


class DemoDataError(RuntimeError):
    """The demo data does not pass the API's own rules (a bug in demo_data.py)."""


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(f"seed: {message}", flush=True)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def seed(verbose: bool = False) -> SeedReport:
    """Write the demo data (idempotent). The environment must already name the local
    stack's AWS endpoint and ``DAOJIA_STAGE=local``."""
    import msgspec
    from chalicelib.catalogue import imports
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.identity import service as identity
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.kernel import config
    from chalicelib.kernel.errors import Conflict
    from chalicelib.stores import service as store_service
    from chalicelib.stores.schemas import StoreCreate

    from infra.local import demo_data

    if not config.is_local():
        raise RuntimeError(
            f"Refusing to seed demo data (with demo passwords) into stage {config.STAGE!r}; "
            "demo data is for the local stack only."
        )
    started = time.perf_counter()
    report = SeedReport()

    for raw in demo_data.stores():
        try:
            store_service.create_store(msgspec.convert(raw, StoreCreate))
            report.stores.created += 1
        except Conflict:
            report.stores.unchanged += 1  # an existing store is never overwritten
    _log(verbose, f"stores: {report.stores} ({time.perf_counter() - started:.2f} s)")

    product_rows = []
    for line, raw in enumerate(demo_data.products(), start=2):
        parsed = parse_product(raw, line)
        if isinstance(parsed, list):
            raise DemoDataError(f"demo product {raw.get('sku')}: {parsed}")
        product_rows.append(parsed)
    for batch in _chunks(product_rows, PRODUCT_BATCH):
        result = imports.apply_products(batch)
        report.products.created += result.created
        report.products.updated += result.updated
        report.products.unchanged += result.unchanged
    _log(verbose, f"products: {report.products} ({time.perf_counter() - started:.2f} s)")

    item_rows = []
    for line, raw in enumerate(demo_data.store_items(), start=2):
        item = parse_store_item(raw, line)
        if isinstance(item, list):
            raise DemoDataError(f"demo store item {raw.get('store_id')}/{raw.get('sku')}: {item}")
        item_rows.append((line, item))
    known_stores: dict[str, bool] = {}
    for batch in _chunks(item_rows, STORE_ITEM_BATCH):
        result = imports.apply_store_items(batch, known_stores)
        if result.errors:
            raise DemoDataError(f"demo store items refused: {result.errors[:5]}")
        report.store_items.created += result.created
        report.store_items.updated += result.updated
        report.store_items.unchanged += result.unchanged
    _log(verbose, f"store items: {report.store_items} ({time.perf_counter() - started:.2f} s)")

    _seed_offers(report)
    _log(verbose, f"coupons, promotions ({time.perf_counter() - started:.2f} s)")

    _seed_member_qr_codes(report, ("store", "shelf"))
    for member in demo_data.members():
        _, created = identity.register_customer(
            member["phone"],
            nickname=member["nickname"],
            source_attrs=identity.resolve_source(member["source"]),
            home_store_id=member["home_store_id"],
            customer_id=member["customer_id"],
        )
        if created:
            report.members.created += 1
        else:
            report.members.unchanged += 1
    _log(verbose, f"members: {report.members} ({time.perf_counter() - started:.2f} s)")

    _seed_stored_value()
    _log(verbose, f"stored value ({time.perf_counter() - started:.2f} s)")
    _seed_programme()
    _log(verbose, f"levels, check-in, tasks ({time.perf_counter() - started:.2f} s)")

    for account in demo_data.staff():
        try:
            identity.create_staff(msgspec.convert(account, StaffCreate))
            report.staff.created += 1
        except Conflict:
            report.staff.unchanged += 1  # an existing account keeps its password
    _log(verbose, f"staff: {report.staff} ({time.perf_counter() - started:.2f} s)")
    _seed_member_qr_codes(report, ("staff",))  # its staff account exists now
    _seed_profile_members(report)
    _log(verbose, f"member profiles ({time.perf_counter() - started:.2f} s)")

    _seed_points(report)
    _log(verbose, f"points: {report.points_entries} ({time.perf_counter() - started:.2f} s)")

    _seed_paid_membership()
    _log(verbose, f"paid membership ({time.perf_counter() - started:.2f} s)")
    _seed_mall(report)
    _log(verbose, f"mall: {report.mall_rewards} ({time.perf_counter() - started:.2f} s)")
    _seed_store_tiers()
    _log(verbose, f"store tiers ({time.perf_counter() - started:.2f} s)")
    _seed_subscriptions()
    _log(verbose, f"subscriptions ({time.perf_counter() - started:.2f} s)")

    # Issue 17 item 2: a live campaign with an open lottery over today.
    from infra.local.seed_lottery import seed_lottery

    seed_lottery()
    _log(verbose, f"lottery ({time.perf_counter() - started:.2f} s)")
    # issue 17: group buy, one open offer with one open group holding a paid member
    from infra.local.seed_group_buy import seed_group_buy

    group_id = seed_group_buy()
    _log(verbose, f"group buy {group_id} ({time.perf_counter() - started:.2f} s)")
    _seed_zones()
    _log(verbose, f"zones ({time.perf_counter() - started:.2f} s)")
    _seed_marketing()
    _log(verbose, f"marketing controls ({time.perf_counter() - started:.2f} s)")

    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _seed_stored_value() -> None:
    """A few members' top-ups, created and paid through the top-up's own paths (the
    payment as the local provider would notify it): a second run finds each top-up by its
    key and its payment recorded, and changes nothing."""
    from chalicelib.auth.principal import CUSTOMER, Principal
    from chalicelib.kernel import clock
    from chalicelib.orders.payment_providers import PaymentNotice
    from chalicelib.stored_value import schemas as sv
    from chalicelib.stored_value import top_ups

    from infra.local import demo_data

    for raw in demo_data.stored_value_top_ups():
        member = Principal(raw["customer_id"], CUSTOMER)
        body = sv.TopUpCreate(amount_fen=raw["amount_fen"], store_id=raw["store_id"])
        top_up, _ = top_ups.create(member, raw["key"], body)
        if top_up.status == "awaiting_payment":
            notice = PaymentNotice(
                "local", f"demo-{raw['key']}", top_up.top_up_id, raw["amount_fen"], clock.now_iso()
            )
            top_ups.record_payment(notice)


def _seed_points(report: SeedReport) -> None:
    """The points rules (head office's settings item) and a few members' points history,
    through ``loyalty.points.award`` with fixed refs: a second run earns nothing twice."""
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.loyalty import points
    from chalicelib.loyalty.schemas import PointsSettings
    from chalicelib.loyalty.settings import put_points_settings

    from infra.local import demo_data

    put_points_settings(
        Principal("hq-admin", "hq_admin"),
        msgspec.convert(demo_data.points_settings(), PointsSettings),
    )
    for award in demo_data.points_history():
        created = points.award(
            award["customer_id"],
            award["points"],
            ref=award["ref"],
            kind="earn",
            reason=award["reason"],
            occurred_at=award["occurred_at"],
            pending_days=award["pending_days"],
            order_id=award.get("order_id"),
        )
        report.points_entries.created += created
        report.points_entries.unchanged += not created


def _seed_member_qr_codes(report: SeedReport, kinds: tuple[str, ...]) -> None:
    """The demo QR codes of ``kinds``, with their fixed codes (members/sources.py)."""
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.members import sources
    from chalicelib.members.models import MemberQrCodeModel
    from chalicelib.members.schemas import QrCodeCreate

    from infra.local import demo_data

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.member_qr_codes():
        if raw["kind"] not in kinds:
            continue
        if MemberQrCodeModel.count(raw["code"]) > 0:
            report.member_qr_codes.unchanged += 1
            continue
        body = msgspec.convert({k: v for k, v in raw.items() if k != "code"}, QrCodeCreate)
        sources.create_qr_code(body, hq, code=raw["code"])
        report.member_qr_codes.created += 1


def _seed_profile_members(report: SeedReport) -> None:
    """Members registered through the shelf and staff codes, with birthday, gender and
    marketing consent (set once: a re-run leaves them as they are)."""
    from chalicelib.auth import tokens
    from chalicelib.db.transactions import Tx, transact
    from chalicelib.identity import service as identity
    from chalicelib.kernel import clock
    from chalicelib.members import service as members
    from chalicelib.members.rules import invite_code

    from infra.local import demo_data

    for raw in demo_data.profile_members():
        source = raw.get("source") or invite_code(tokens.signing_key(), raw["invited_by"])
        member, created = identity.register_customer(
            raw["phone"],
            nickname=raw["nickname"],
            source_attrs=identity.resolve_source(source, phone=raw["phone"]),
            customer_id=raw["customer_id"],
        )
        if not created:
            report.members.unchanged += 1
            continue
        report.members.created += 1
        members.update_profile(
            member.customer_id,
            members.s.ProfileUpdate(birthday=raw["birthday"], gender=raw["gender"]),
        )

        def consent(
            tx: Tx,
            customer_id: str = member.customer_id,
            granted: bool = raw["consent"],
            at: str = clock.now_iso_ms(),
        ) -> None:
            members.consent_change_pieces(tx, customer_id, granted, "store", "customer", at)

        transact(consent)


def _seed_paid_membership() -> None:
    """The paid membership plans and a few members' cards, through the feature's own
    paths (a purchase paid as the local provider would notify it; a trial granted by
    head office): a second run finds each plan, purchase and trial and changes nothing."""

    import contextlib

    import msgspec
    from chalicelib.auth.principal import CUSTOMER, Principal
    from chalicelib.kernel import clock
    from chalicelib.kernel.errors import Conflict
    from chalicelib.loyalty import paid_membership as paid
    from chalicelib.loyalty import paid_schemas as ps
    from chalicelib.loyalty.paid_models import PaidPlanModel
    from chalicelib.orders.payment_providers import PaymentNotice

    from infra.local import demo_data

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.paid_plans():
        body = {k: v for k, v in raw.items() if k != "plan_id"}
        if PaidPlanModel.count(raw["plan_id"]) == 0:
            paid.create_plan(hq, msgspec.convert(body, ps.PlanIn), plan_id=raw["plan_id"])
    for raw in demo_data.paid_cards():
        if raw.get("trial"):
            with contextlib.suppress(Conflict):  # granted by an earlier run
                paid.grant_trial(
                    raw["customer_id"], actor=hq.subject, reason="演示数据", principal=hq
                )
            continue
        member = Principal(raw["customer_id"], CUSTOMER)
        purchase, _ = paid.create_purchase(
            member, raw["key"], ps.PurchaseCreate(plan_id=raw["plan_id"])
        )
        if purchase.status == "awaiting_payment":
            notice = PaymentNotice(
                "local",
                f"demo-{raw['key']}",
                purchase.purchase_id,
                purchase.price_fen,
                clock.now_iso(),
            )
            paid.record_payment(notice)


def _seed_mall(report: SeedReport) -> None:
    """The points mall's rewards (after the coupon templates they name), through
    ``loyalty.mall.create_reward`` with fixed ids: an existing reward is left as it is
    (its units and redemptions are the demo's history by then)."""
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.kernel.errors import Conflict
    from chalicelib.loyalty import mall
    from chalicelib.loyalty.mall_schemas import RewardCreate

    from infra.local import demo_data

    for raw in demo_data.mall_rewards():
        try:
            body = msgspec.convert(raw, RewardCreate)
            mall.create_reward(Principal("hq-admin", "hq_admin"), body)
            report.mall_rewards.created += 1
        except Conflict:
            report.mall_rewards.unchanged += 1


def publish(view: Any) -> Any:
    """Promotions and templates start as drafts (issue 18 item 5): the demo's head office
    approves them through the same service path, a second person where two are needed.
    A re-seed finds them active and approves nothing."""
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import schemas as cs
    from chalicelib.coupons import workflow as coupon_workflow
    from chalicelib.promotions import schemas as ps
    from chalicelib.promotions import workflow as promotion_workflow

    for who in ("hq-admin", "hq-ops"):
        if view.status not in ("draft", "pending"):
            break
        me = Principal(who, "hq_admin")
        if hasattr(view, "promotion_id"):
            view = promotion_workflow.approve(me, view.promotion_id, ps.ApproveRequest())
        else:
            view = coupon_workflow.approve(me, view.template_id, cs.TemplateApproveRequest())
    return view


def _seed_offers(report: SeedReport) -> None:
    """Coupon templates and promotions, through the services with fixed ids: a second
    run sends the same bodies, which the services answer as replays. Templates come
    before members, so demo members get the new-member gift when they are created."""
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.models import CouponTemplateModel
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.models import PromotionModel
    from chalicelib.promotions.schemas import PromotionCreate

    from infra.local import demo_data

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.coupon_templates():
        known = CouponTemplateModel.count(raw["template_id"]) > 0
        publish(coupons.create_template(hq, msgspec.convert(raw, TemplateCreate)))
        report.coupon_templates.unchanged += known
        report.coupon_templates.created += not known
    coupons.forget_auto_cache()
    for raw in demo_data.promotions():
        known = PromotionModel.count(raw["promotion_id"]) > 0
        publish(promotions.create(hq, msgspec.convert(raw, PromotionCreate)))
        report.promotions.unchanged += known
        report.promotions.created += not known


def seed_programme() -> None:
    """The loyalty programme: gift templates, levels, check-in rewards, tasks, and a few
    members' growth value. Idempotent: unchanged settings write nothing (the audit sees
    no change), templates answer as replays, growth is keyed ``task:demo:once``."""
    _seed_programme()


def _seed_programme() -> None:
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.loyalty import growth, programme_settings
    from chalicelib.loyalty import programme_schemas as ps

    from infra.local import demo_data

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.programme_coupon_templates():
        publish(coupons.create_template(hq, msgspec.convert(raw, TemplateCreate)))
    levels = msgspec.convert(demo_data.loyalty_levels(), ps.LevelsSettings)
    programme_settings.put(hq, programme_settings.LEVELS, levels)
    checkin = msgspec.convert(demo_data.checkin_settings(), ps.CheckinSettings)
    programme_settings.put(hq, programme_settings.CHECKIN, checkin)
    tasks = msgspec.convert(demo_data.loyalty_tasks(), ps.TasksSettings)
    programme_settings.put(hq, programme_settings.TASKS, tasks)
    for customer_id, value in demo_data.member_growth().items():
        growth.add_growth(
            customer_id, value, ref="task:demo:once", kind="task", reason="演示成长值"
        )


def create_resources(prefix: str = PREFIX) -> dict[str, str]:
    """Every table, queue and bucket, from the production definitions (idempotent)."""
    import boto3

    from infra.resources import create_all

    return create_all(boto3.Session(), prefix)


def _require_loopback_endpoint() -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    host = urlparse(endpoint).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(
            "seed: AWS_ENDPOINT_URL must point to the local stack's AWS on loopback "
            f"(got {endpoint!r}); run `./daojia up` rather than this module directly."
        )


# Store TOP tiers (docs/campaigns.md): six scored months per demo store, written directly,
# each store in its own band so the page and the dashboard show different tiers; and this
# month's uptime and total so far (only where the sampler has not started the item).
_TIER_BANDS = {  # store: (T %, O %, P %) around which its months vary
    "sh-jingan": (97, 34, 96),
    "sh-xuhui": (93, 24, 92),
    "sh-lujiazui": (86, 14, 85),
    "sh-wujiaochang": (76, 8, 78),
}


def _seed_store_tiers() -> None:
    import random

    from chalicelib.db.writes import is_condition_failure
    from chalicelib.kernel import clock, hours
    from chalicelib.store_tiers import rules
    from chalicelib.store_tiers import service as tiers
    from chalicelib.store_tiers.models import StoreMonthModel, StoreTierMonthModel
    from pynamodb.exceptions import PutError

    this = tiers.this_month()
    months = rules.months_back(rules.previous_month(this), 6)
    thresholds = json.dumps(
        {k: {"t": v.t, "o": v.o, "p": v.p} for k, v in rules.DEFAULTS.items()}, sort_keys=True
    )
    with StoreTierMonthModel.batch_write() as batch:
        for store_id, (t, o, p) in _TIER_BANDS.items():
            rnd = random.Random(f"tiers:{store_id}")  # deterministic: a rerun writes the same
            for n, month in enumerate(months):
                slots = 30 * 14 * 12  # about 14 open hours a day
                orders = rnd.randint(2400, 3600)
                dip = rnd.choice((0, 0, -3, 2))
                o_pct = max(o + rnd.choice((-2, 0, 3)), 1)
                # the wujiaochang store's total was not entered for one month: O unknown
                unknown = store_id == "sh-wujiaochang" and n == 2
                total = None if unknown else orders * 100 // o_pct
                inputs = rules.Inputs(
                    open_slots=slots,
                    up_slots=slots * min(t + dip, 100) // 100,
                    orders=orders,
                    transactions=total,
                    on_time=orders * min(p + rnd.choice((-2, 0, 1)), 100) // 100,
                    timed=orders,
                )
                sc = rules.score(inputs, rules.DEFAULTS)
                batch.save(
                    StoreTierMonthModel(
                        store_id,
                        month,
                        tier=sc.tier,
                        t_bp=sc.t_bp,
                        o_bp=sc.o_bp,
                        p_bp=sc.p_bp,
                        open_slots=inputs.open_slots,
                        up_slots=inputs.up_slots,
                        orders=inputs.orders,
                        transactions=inputs.transactions,
                        on_time=inputs.on_time,
                        timed=inputs.timed,
                        thresholds=thresholds,
                        scored_at=f"{rules.month_days(month)[1]}T18:00:00Z",
                    )
                )
    day = clock.now().astimezone(hours.zone(tiers.CHAIN_TZ)).day
    for store_id, (t, _o, _p) in _TIER_BANDS.items():
        slots = day * 14 * 12
        try:
            StoreMonthModel(
                store_id,
                this,
                open_slots=slots,
                up_slots=slots * t // 100,
                transactions=day * 300,
                transactions_by="demo",
                transactions_at=clock.now_iso(),
            ).save(condition=StoreMonthModel.store_id.does_not_exist())
        except PutError as exc:  # started by the sampler or an earlier seed: kept
            if not is_condition_failure(exc):
                raise


# Subscription delivery (周期购, issue 17): a month of milk, daily, and one paid
# subscriber (pickup at the member's home store), through the feature's own paths and the
# payment callback as the local provider would call it. A second run finds the plan and
# the subscription and writes nothing.
DEMO_MILK_PLAN = "SP-demo-milk-30"
DEMO_MILK_KEY = "demo-milk-subscription-01"


def _seed_subscriptions() -> None:
    import msgspec
    from chalicelib.auth.principal import CUSTOMER, Principal
    from chalicelib.kernel import clock
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import PaymentNotice
    from chalicelib.subscriptions import schemas as ss
    from chalicelib.subscriptions import service as subs
    from chalicelib.subscriptions.models import SubscriptionModel, SubscriptionPlanModel

    if SubscriptionPlanModel.count(DEMO_MILK_PLAN) == 0:
        plan = {
            "name": "每日鲜奶 一个月（周期购）",
            "lines": [{"sku": "500001", "qty": 1}],
            "frequency": "daily",
            "deliveries": 30,
            "window": "07:00-09:00",
            "pricing": "upfront",
            "price_fen": 39900,
            "stores": ["sh-jingan", "sh-xuhui", "sh-lujiazui", "sh-wujiaochang"],
            "cutoff": "20:00",
        }
        subs.create_plan(
            Principal("hq-admin", "hq_admin"),
            msgspec.convert(plan, ss.SubscriptionPlanIn),
            plan_id=DEMO_MILK_PLAN,
        )
    member = Principal("c-demo-01", CUSTOMER)
    sub_id = subs.subscription_id_for(member.subject, DEMO_MILK_KEY)
    if SubscriptionModel.count(sub_id) > 0:
        return
    first = subs.first_open_date(
        SubscriptionModel(frequency="daily", weekday=None, cutoff="20:00"),
        clock.now().astimezone(subs.rules.ZONE).date(),
    )
    body = {
        "plan_id": DEMO_MILK_PLAN,
        "store_id": "sh-jingan",
        "fulfilment": "pickup",
        "first_date": first.isoformat(),
    }
    sub, _ = subs.subscribe(member, DEMO_MILK_KEY, msgspec.convert(body, ss.SubscribeIn))
    notice = PaymentNotice(
        "local", f"demo-{DEMO_MILK_KEY}", sub.subscription_id, sub.price_fen, clock.now_iso()
    )
    payments.record_payment(notice)


# Zones (issue 17 item 4): an add-on zone (凑单专区) and a 9.9 zone (9.9元专区) at every demo
# store, through the service with fixed ids: a second run is a replay and writes nothing.
DEMO_ZONES: tuple[dict[str, Any], ...] = (
    {
        "zone_id": "demo-add-on",
        "kind": "add_on",
        "name": "凑单专区",
        # water, salt, biscuits, vinegar, sugar, noodles: cheap ambient goods
        "skus": ["800009", "600025", "700005", "700003", "700004", "600023", "600026", "600009"],
    },
    {
        "zone_id": "demo-9-9",
        "kind": "fixed_price",
        "name": "9.9元专区",
        "skus": ["200015", "200014", "200021"],
        "starts_at": "2026-11-01T00:00:00+08:00",
        "ends_at": "2027-12-31T00:00:00+08:00",
        "price_fen": 990,
        "per_customer_limit": 2,
    },
)


def _seed_zones() -> None:
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.zones import service as zones
    from chalicelib.zones.models import ZoneModel
    from chalicelib.zones.schemas import ZoneCreate

    hq = Principal("hq-admin", "hq_admin")
    for raw in DEMO_ZONES:
        if ZoneModel.count(raw["zone_id"]) == 0:  # never a write on a second run
            zones.create(hq, msgspec.convert(raw, ZoneCreate))


def _seed_marketing() -> None:
    """Issue 18: a 满件减 awaiting its second approval (approved by hq-admin only, so
    "待审批 1/2" on the promotions page until hq-ops approves it), a shareable code and a
    supplier-funded coupon in its own stack group. Fixed ids: a re-seed is a replay and
    approves nothing again."""
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.promotions import schemas as ps
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions import workflow as promotion_workflow

    from infra.local import demo_data

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.marketing_templates():
        publish(coupons.create_template(hq, msgspec.convert(raw, TemplateCreate)))
    for raw in demo_data.marketing_promotions():
        view = promotions.create(hq, msgspec.convert(raw, ps.PromotionCreate))
        if view.status == "draft":  # the first approval only: the second is the demo's
            promotion_workflow.approve(hq, view.promotion_id, ps.ApproveRequest())


def main(argv: list[str] | None = None) -> int:
    """Command line: create resources and/or seed, then print the report."""
    parser = argparse.ArgumentParser(description="Create the local stack's resources and seed.")
    parser.add_argument("--create-resources", action="store_true")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    _require_loopback_endpoint()
    from chalicelib.kernel import config

    out: dict[str, Any] = {}
    if args.create_resources:
        started = time.perf_counter()
        out["queues"] = create_resources(config.RESOURCE_PREFIX)
        out["resources_seconds"] = round(time.perf_counter() - started, 3)
    if not args.no_seed:
        out["seed"] = seed(verbose=args.verbose).as_dict()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    elif "seed" in out:
        print(SeedReport.from_dict(out["seed"]).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
