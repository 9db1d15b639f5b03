"""The campaign review as CSV rows: a total, one row per store, one per day."""

from __future__ import annotations

from chalicelib.campaigns import review_schemas as s
from chalicelib.exports.csv_writer import Cell, CsvEncoder, Yuan

HEADER = (
    "row",
    "store_id",
    "name",
    "date",
    "gmv",
    "orders",
    "aov",
    "visitors",
    "conversion",
    "new_members",
    "refund_rate",
    "baseline_gmv",
    "change",
)


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _kpi_cells(k: s.Kpis) -> list[Cell]:
    return [
        Yuan(k.gmv_fen),
        k.orders,
        None if k.aov_fen is None else Yuan(k.aov_fen),
        k.visitors,
        _rate(k.conversion),
        k.new_members,
        _rate(k.refund_rate),
    ]


def rows(r: s.Review) -> list[list[Cell]]:
    period = f"{r.from_}..{r.to}"
    d = r.decomposition
    out: list[list[Cell]] = [
        [
            "total",
            None,
            r.name,
            period,
            *_kpi_cells(r.kpis),
            Yuan(d.baseline_gmv_fen),
            Yuan(d.change_fen),
        ]
    ]
    for st in r.stores:
        out.append(
            [
                "store",
                st.store_id,
                st.name,
                period,
                *_kpi_cells(st.kpis),
                Yuan(st.baseline_gmv_fen),
                Yuan(st.change_fen),
            ]
        )
    for day in r.daily:
        out.append(
            [
                "day",
                *(None, None, day.date, Yuan(day.gmv_fen), day.orders, None, day.visitors),
                *(None, day.new_members, None, None, None),
            ]
        )
    return out


def render(r: s.Review) -> str:
    enc = CsvEncoder()
    return (enc.header(HEADER) + enc.rows(rows(r))).decode("utf-8")
