"""Issue 18's mechanics as head office stores them: 满件减 / 满N件M折 / 每满减 (options of
a ``tiered`` promotion), 加价购 (``add_on``), 满赠 (``gift``) and 一口价 (``bundle``).
The pricing rules are the engine's (checkout/promotion_engine.py, docs/promotions.md,
"More mechanics"); this module validates the fields, stores them on the promotion
item and reads them back for views and for ``active_for``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.kernel.errors import field_error
from chalicelib.promotions import limits as promo_limits
from chalicelib.promotions import schemas as s
from chalicelib.promotions.models import PromotionModel

KINDS = ("add_on", "gift", "bundle")
TIER_OPTIONS = {"basis", "every", "cap_fen", "percent"}
# The fields each kind takes (merged into service.KIND_FIELDS).
KIND_FIELDS: dict[str, set[str]] = {
    "tiered": TIER_OPTIONS,
    "add_on": {"sku", "price_fen", "max_units", "threshold_fen", "scope"},
    "gift": {"sku", "threshold_fen", "gift_units", "scope"},
    "bundle": {"price_fen", "bundle_units", "scope"},
}
FIELDS = {f for fs in KIND_FIELDS.values() for f in fs}


def errors(body: s.PromotionCreate) -> list[dict[str, str]]:
    """The mechanics' rules, as field errors (fields of another kind are refused by the
    service's own check)."""
    out: list[dict[str, str]] = []
    if body.kind == "tiered" and own_tiers(body):
        out += [field_error(f, r) for f, r in tier_errors(body)]
    if body.kind == "tiered" and body.every and len(body.tiers or []) != 1:
        out.append(field_error("tiers", "every (每满减) takes exactly one tier"))
    if body.kind == "tiered" and body.cap_fen is not None and not body.every:
        out.append(field_error("cap_fen", "only with every (每满减)"))
    required = {
        "add_on": ("sku", "price_fen", "max_units", "threshold_fen"),
        "gift": ("sku", "threshold_fen"),
        "bundle": ("price_fen", "bundle_units"),
    }.get(body.kind, ())
    for f in required:
        if getattr(body, f) is None:
            out.append(field_error(f, f"required for a {body.kind} promotion"))
    if body.kind == "bundle" and body.bundle_units == 1:
        out.append(field_error("bundle_units", "at least 2 units make a bundle"))
    if body.kind == "bundle" and not (body.scope and (body.scope.skus or body.scope.categories)):
        out.append(field_error("scope", "a bundle needs its list: skus or categories"))
    return out


def tier_errors(body: s.PromotionCreate) -> list[tuple[str, str]]:
    """Tiers of a 满件减 (thresholds in units), 满N件M折 (off in percent, 1-99) or
    每满减 (exactly one tier): thresholds strictly increase, off never decreases."""
    tiers = [(t.threshold_fen, t.off_fen) for t in body.tiers or []]
    errs = [] if tiers else [("tiers", "required: at least one tier")]
    for i, (threshold, off) in enumerate(tiers):
        if i and threshold <= tiers[i - 1][0]:
            errs.append((f"tiers[{i}].threshold_fen", "thresholds must strictly increase"))
        if i and off < tiers[i - 1][1]:
            errs.append((f"tiers[{i}].off_fen", "a higher tier cannot give less"))
        if body.basis == "units" and threshold > 999:
            errs.append((f"tiers[{i}].threshold_fen", "units: at most 999"))
        if body.percent and off > 99:
            errs.append((f"tiers[{i}].off_fen", "percent: 1 to 99"))
        if body.basis != "units" and not body.percent and off >= threshold:
            errs.append((f"tiers[{i}].off_fen", "must be below its threshold"))
    return errs


def own_tiers(body: s.PromotionCreate) -> bool:
    """Tiers whose thresholds are units or whose off is a percentage: checked here, not
    by edit_rules.tier_errors (an amount off below its threshold in fen)."""
    return body.basis == "units" or bool(body.percent)


def set_on(promo: PromotionModel, body: s.PromotionCreate) -> None:
    """Store the mechanics' fields (absent ones stay unset: an ordinary promotion's item
    does not grow)."""
    promo.tier_basis = body.basis if body.basis == "units" else None
    promo.tier_every = True if body.every else None
    promo.tier_cap_fen = body.cap_fen
    promo.tier_percent = True if body.percent else None
    promo.threshold_fen = body.threshold_fen
    promo.price_fen = body.price_fen
    promo.max_units = body.max_units
    promo.bundle_units = body.bundle_units
    promo.gift_units = (body.gift_units or 1) if body.kind == "gift" else None
    if body.kind in ("add_on", "gift"):
        promo.sku = body.sku


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def view_fields(m: PromotionModel) -> dict[str, Any]:
    """The mechanics' fields of a view (Promotion, StorePromotion)."""
    tiered = m.kind == "tiered"
    return {
        "basis": (m.tier_basis or "amount") if tiered else None,
        "every": bool(m.tier_every) if tiered else None,
        "cap_fen": _int(m.tier_cap_fen),
        "percent": bool(m.tier_percent) if tiered else None,
        "threshold_fen": _int(m.threshold_fen),
        "price_fen": _int(m.price_fen),
        "max_units": _int(m.max_units),
        "bundle_units": _int(m.bundle_units),
        "gift_units": _int(m.gift_units),
    }


@dataclass(frozen=True)
class TierOptions:
    basis: str = "amount"
    every: bool = False
    cap_fen: int | None = None
    percent: bool = False


PLAIN_TIERS = TierOptions()


def tier_options(m: PromotionModel) -> TierOptions:
    return TierOptions(
        m.tier_basis or "amount", bool(m.tier_every), _int(m.tier_cap_fen), bool(m.tier_percent)
    )


@dataclass(frozen=True)
class Mechanic:
    """An add_on, gift or bundle promotion live at a store, as ``active_for`` gives it
    (checkout/service.py turns it into the engine's type)."""

    promotion_id: str
    kind: str  # "add_on" | "gift" | "bundle"
    name: str
    categories: frozenset[str]
    skus: frozenset[str]
    starts_at: str
    ends_at: str
    sku: str | None  # add_on, gift
    price_fen: int | None  # add_on, bundle
    threshold_fen: int | None  # add_on, gift
    units: int  # add_on: the most units; gift: units given; bundle: units a bundle
    campaign_id: str | None = None
    funded_by: str = "hq"
    limits: promo_limits.Limits | None = None  # counted like a tiered promotion's

    @property
    def per_order_cap(self) -> int | None:
        """``limits.per_order_units``: add-on units or bundles one order gets."""
        return self.limits.per_order_units if self.limits else None


def mechanic_of(m: PromotionModel) -> Mechanic:
    units = {"add_on": m.max_units, "gift": m.gift_units, "bundle": m.bundle_units}[str(m.kind)]
    return Mechanic(
        m.promotion_id,
        str(m.kind),
        m.name,
        frozenset(m.scope_categories),
        frozenset(m.scope_skus),
        m.starts_at,
        m.ends_at,
        m.sku,
        _int(m.price_fen),
        _int(m.threshold_fen),
        int(units or 1),
        m.campaign_id,
        m.funded_by or "hq",
        promo_limits.limits_of(m.limits),
    )
