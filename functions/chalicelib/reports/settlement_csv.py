"""The suppliers' settlement statement as CSV (exports' writer and column headings):
one row per supplier × promotion/template × store, then a total row per supplier."""

from __future__ import annotations

from chalicelib.exports.columns import Column, Language
from chalicelib.exports.csv_writer import Cell, CsvEncoder, Yuan
from chalicelib.reports import schemas as s

COLUMNS = (
    Column("行", "row"),
    Column("供应商", "supplier"),
    Column("优惠来源", "source"),
    Column("名称", "name"),
    Column("门店", "store_id"),
    Column("门店名称", "store"),
    Column("订单数", "orders"),
    Column("优惠金额", "discount", money=True),
    Column("退款冲回", "refunded discount", money=True),
    Column("应结金额", "owed", money=True),
)


def rows(st: s.SupplierSettlement) -> list[list[Cell]]:
    out: list[list[Cell]] = []
    for sup in st.suppliers:
        for src in sup.sources:
            for x in src.stores:
                out.append(
                    [
                        "line",
                        sup.funder,
                        src.source,
                        src.name,
                        x.store_id,
                        x.name,
                        x.orders,
                        Yuan(x.discount_fen),
                        Yuan(x.discount_fen - x.net_fen),
                        Yuan(x.net_fen),
                    ]
                )
        out.append(
            [
                "supplier_total",
                sup.funder,
                None,
                None,
                None,
                None,
                sup.orders,
                Yuan(sup.discount_fen),
                Yuan(sup.refunded_fen),
                Yuan(sup.owed_fen),
            ]
        )
    return out


def render(st: s.SupplierSettlement, language: Language) -> str:
    enc = CsvEncoder()
    labels = [c.label(language, "Asia/Shanghai") for c in COLUMNS]
    return (enc.header(labels) + enc.rows(rows(st))).decode("utf-8")
