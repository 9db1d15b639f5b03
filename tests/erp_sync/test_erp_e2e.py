"""daojia-import against the real local stack: moto, the API under chalice local, the worker."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from erp_sync import cli
from infra.local import demo_data
from infra.local.stack import LocalStack

pytestmark = pytest.mark.e2e

HQ = next(a for a in demo_data.staff() if a["username"] == "hq-admin")


@pytest.fixture(scope="module")
def stack() -> Iterator[Any]:
    with LocalStack() as running:
        yield running


def run(stack: Any, tmp_path: Path, kind: str, name: str, text: str) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAOJIA_PASSWORD", HQ["password"])
        code = cli.run(
            [kind, str(path), "--api", stack.api_url, "--username", HQ["username"]],
            stdout=out,
            stderr=err,
        )
    return code, out.getvalue(), err.getvalue()


def summary(out: str) -> dict[str, int]:
    figures = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("created", "updated", "unchanged", "rejected"):
            figures[words[0]] = int(words[1])
    return figures


def test_erp_sample_has_one_rejected_row_at_line_4(stack: Any, tmp_path: Path) -> None:
    code, out, err = run(stack, tmp_path, "products", "erp.csv", demo_data.erp_sample_csv())
    assert code == 1, err
    assert summary(out)["rejected"] == 1
    rejected = [line.split() for line in out.splitlines() if "not true/false" in line]
    assert len(rejected) == 1
    assert rejected[0][:2] == ["4", "fresh"]


def test_importing_the_stock_sample_twice_changes_nothing_the_second_time(
    stack: Any, tmp_path: Path
) -> None:
    text = demo_data.stock_sample_csv()
    rows = len(text.strip().splitlines()) - 1
    first, _, err = run(stack, tmp_path, "store_items", "stock.csv", text)
    assert first == 0, err
    second, out, err = run(stack, tmp_path, "store_items", "stock.csv", text)
    assert second == 0, err
    assert summary(out) == {"created": 0, "updated": 0, "unchanged": rows, "rejected": 0}


def test_json_items_are_numbered_from_1(stack: Any, tmp_path: Path) -> None:
    items = [
        {"store_id": "sh-jingan", "sku": "100001", "price_fen": 398, "stock": 12},
        {"store_id": "sh-jingan", "sku": "100002", "price_fen": 4.98, "stock": 12},
    ]
    code, out, err = run(stack, tmp_path, "store_items", "stock.json", json.dumps(items))
    assert code == 1, err
    rejected = [line.split() for line in out.splitlines() if "whole number" in line]
    assert [row[:2] for row in rejected] == [["2", "price_fen"]]


def test_a_split_file_reports_lines_of_the_original(
    stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo catalogue (~40 KB) in parts of ~9 KB, as a 6 MiB+ file would be split.
    monkeypatch.setattr(cli, "MAX_UPLOAD_BYTES", 12_000)
    monkeypatch.setattr(cli, "PART_BYTES", 9_000)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(demo_data.ERP_CSV_HEADER)
    products = demo_data.products()
    for n, product in enumerate(products):
        row = {**product, "fresh": "maybe" if n == len(products) - 10 else product["fresh"]}
        writer.writerow(
            [
                str(row[c]).lower() if isinstance(row[c], bool) else row[c]
                for c in demo_data.ERP_CSV_HEADER
            ]
        )
    code, out, err = run(stack, tmp_path, "products", "catalogue.csv", buffer.getvalue())
    assert code == 1, err
    assert "parts" in out
    figures = summary(out)
    assert figures["rejected"] == 1
    assert figures["unchanged"] == len(products) - 1
    rejected = [line.split() for line in out.splitlines() if "not true/false" in line]
    assert [row[:2] for row in rejected] == [[str(len(products) - 10 + 2), "fresh"]]
