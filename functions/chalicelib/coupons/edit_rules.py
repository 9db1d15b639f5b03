"""What may change in a coupon template once coupons were issued. Plain Python.

A coupon carries a copy of its template's terms (validity, scope, discount) from the
moment it is issued, so an edit never changes a coupon a customer already holds. The
rules keep the template an honest description of the coupons issued from it and never
take anything back from a holder:

* ``total_quantity`` not below the coupons issued; ``budget_fen`` not below what is
  spent (checked in the write's condition, see service.update_template);
* ``ends_at`` (fixed-window templates only): may always be extended; may be brought
  forward only while no coupon was issued (holders keep the end they were given, and a
  template ending before its own coupons would be a lie). Never in the past, never
  before ``starts_at``. Templates valid N days after claiming have no end to edit;
* ``scope``: any change while no coupon was issued; afterwards only a widening (each of
  categories, SKUs, stores keeps everything it had, or becomes "all"), so a coupon
  issued later is never worth less than one issued earlier.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    categories: frozenset[str]
    skus: frozenset[str]
    stores: frozenset[str]


def _covers(new: frozenset[str], old: frozenset[str]) -> bool:
    """Empty means all: an empty list covers anything; a list covers a list it contains."""
    return not new or (bool(old) and new >= old)


def scope_problem(old: Scope, new: Scope, issued: int) -> str | None:
    """Why the scope may not change so, or None."""
    if issued == 0 or old == new:
        return None
    # Products: both lists empty = every product; otherwise a line qualifies by its SKU
    # or its category (checkout/promotion_engine.Scope).
    old_all = not old.categories and not old.skus
    new_all = not new.categories and not new.skus
    products_wider = new_all or (
        not old_all and new.categories >= old.categories and new.skus >= old.skus
    )
    if not products_wider or not _covers(new.stores, old.stores):
        return (
            f"{issued} coupons were issued with the current scope: it may only be widened "
            "(keep every category, SKU and store, or make it all); create a new template "
            "for a narrower one"
        )
    return None


def ends_at_problem(
    *,
    current: str | None,
    starts_at: str | None,
    days_after_claim: int | None,
    issued: int,
    new: str,
    now: str,
) -> str | None:
    """Why ``ends_at`` may not become ``new`` (UTC ISO strings compare as times), or None."""
    if days_after_claim is not None or current is None:
        return (
            f"coupons of this template are valid {days_after_claim} days after they are "
            "received: there is no end date to change"
        )
    if new <= now:
        return "must be in the future"
    if starts_at is not None and new <= starts_at:
        return "must be after starts_at"
    if new < current and issued > 0:
        return (
            f"{issued} coupons were issued valid until {current}: the end can only be extended now"
        )
    return None
