"""The arithmetic of effect reports and supplier settlements (issue 18 item 6), from the
daily rollups' ``disc`` (source -> [orders, fen]) and ``eff`` (source -> [gmv_fen,
net_fen, new_customers]). Plain Python: reports/effect.py reads the days and hands them
here. Definitions are in docs/promotions.md ("Effect reports and supplier settlement")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chalicelib.reports.rules import DayFigures


@dataclass
class Tally:
    """A source's figures over some store-days; ``others_*``: the other sales of the
    store-days on which it was redeemed (AOV without)."""

    orders: int = 0
    discount_fen: int = 0
    net_fen: int = 0
    gmv_fen: int = 0
    new_customers: int = 0
    others_orders: int = 0
    others_gmv_fen: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def refunded_fen(self) -> int:
        return self.discount_fen - self.net_fen


def of_day(f: DayFigures, source: str) -> Tally:
    """One store-day's figures of ``source`` (zeros when it was not redeemed). A day
    rolled up before ``eff`` existed counts its discount whole (no refund known) and no
    GMV: a backfill of the range (reports/service.py ``backfill``) fills them."""
    n, fen = (f.disc.get(source) or [0, 0])[:2]
    if not n:
        return Tally()
    gmv, net, new = (f.eff.get(source) or [0, fen, 0])[:3]
    return Tally(
        orders=n,
        discount_fen=fen,
        net_fen=net,
        gmv_fen=gmv,
        new_customers=new,
        others_orders=f.orders - n,
        others_gmv_fen=(f.paid_fen - f.refunded_fen) - gmv,
    )


def total(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out.add(t)
    return out


def aov(gmv_fen: int, orders: int) -> int | None:
    """GMV ÷ orders rounded down to the fen (net of refunds, as the campaign review);
    None without orders."""
    return gmv_fen // orders if orders else None


@dataclass
class Statement:
    """One supplier's month: per source and per store (and per source × store)."""

    funder: str
    sources: dict[str, Tally] = field(default_factory=dict)
    stores: dict[str, Tally] = field(default_factory=dict)
    source_stores: dict[tuple[str, str], Tally] = field(default_factory=dict)

    @property
    def total(self) -> Tally:
        return total(self.sources.values())


def settle(
    days: dict[tuple[str, str], DayFigures], suppliers: dict[str, str]
) -> dict[str, Statement]:
    """funder -> statement, from the month's store-days. ``suppliers``: source -> the
    supplier funding it (only supplier-funded sources)."""
    out: dict[str, Statement] = {}
    for (store_id, _day), f in sorted(days.items()):
        for source in sorted(f.disc):
            funder = suppliers.get(source)
            if funder is None:
                continue
            t = of_day(f, source)
            if not t.orders:
                continue
            st = out.setdefault(funder, Statement(funder))
            st.sources.setdefault(source, Tally()).add(t)
            st.stores.setdefault(store_id, Tally()).add(t)
            st.source_stores.setdefault((source, store_id), Tally()).add(t)
    return out
