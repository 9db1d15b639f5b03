"""ERP import throughput through the local stack: ``python bench/erp_import.py [--rows N]``.

What is measured: the daily stock sync (库存同步), i.e. N ``store_items`` rows (price and
stock of N/4 new products in each of the 4 demo stores; 50,000 rows by default) sent by
the ``daojia-import`` CLI code path (``erp_sync.cli.main``, in process) to the API of a
fresh ``LocalStack``, until the worker has applied every row. The products themselves
are imported first through the same CLI (setup, reported as a ``#`` comment line).

Rows are realistic: Chinese names and units built on the demo catalogue, its categories,
picking zones and shelves, valid EAN-13 barcodes, store prices within ±10 % of a list
price, fresh goods with less stock.

Prints figures only (no assertions); the last line is ``erp_rows_per_s``.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from erp_sync import cli  # noqa: E402
from erp_sync.api import ApiClient  # noqa: E402
from infra.local import demo_data  # noqa: E402

SEED = 20261124
# Variants a chain lists next to a base product: pack sizes, promotions, origins.
VARIANTS = ("", "家庭装", "量贩装", "精选", "有机", "礼盒装", "特惠装", "小包装", "会员专享")
FIRST_SKU = 700_000_000  # outside the demo catalogue's 6-digit SKUs


def generate_products(count: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``count`` new products modelled on the demo catalogue, and their list prices (fen)."""
    rng = random.Random(SEED)
    base = demo_data.products()
    list_fen = {
        item["sku"]: item["price_fen"]
        for item in demo_data.store_items()
        if item["store_id"] == "sh-jingan"  # the reference store sells at the list price
    }
    products: list[dict[str, Any]] = []
    prices: dict[str, int] = {}
    for n in range(count):
        model = base[n % len(base)]
        variant = VARIANTS[(n // len(base)) % len(VARIANTS)]
        batch = n // (len(base) * len(VARIANTS))
        name = f"{model['name']} {variant}".strip()
        if batch:
            name = f"{name} 第{batch + 1}批"
        sku = str(FIRST_SKU + n)
        body = f"69{rng.randint(0, 99999):05d}{n % 100000:05d}"
        products.append(
            {
                **model,
                "sku": sku,
                "name": name[:60],
                "barcode": body + demo_data.ean13_check_digit(body),
                "image_url": f"https://img.example.com/sku/{sku}.jpg",
                "active": True,
            }
        )
        factor = {"": 1.0, "家庭装": 1.8, "量贩装": 2.5, "礼盒装": 3.0, "小包装": 0.6}
        prices[sku] = max(
            50, round(list_fen[model["sku"]] * factor.get(variant, 1.15) * rng.uniform(0.95, 1.05))
        )
    return products, prices


def generate_store_items(
    products: list[dict[str, Any]], prices: dict[str, int], rows: int
) -> list[dict[str, Any]]:
    """``rows`` price/stock rows: every product in each demo store, store by store."""
    rng = random.Random(SEED + 1)
    store_ids = [store["store_id"] for store in demo_data.stores()]
    items: list[dict[str, Any]] = []
    for store_id in store_ids:
        level = {"sh-xuhui": 0.02, "sh-lujiazui": 0.05, "sh-wujiaochang": -0.04}.get(store_id, 0.0)
        for product in products:
            if len(items) >= rows:
                return items
            price = prices[product["sku"]]
            store_price = round(price * (1 + level + rng.uniform(-0.03, 0.03)) / 10) * 10
            items.append(
                {
                    "store_id": store_id,
                    "sku": product["sku"],
                    "price_fen": max(10, min(store_price, math.floor(price * 1.1))),
                    "stock": rng.randint(5, 60) if product["fresh"] else rng.randint(20, 300),
                    "on_sale": rng.random() > 0.01,
                }
            )
    return items


def to_csv(rows: list[dict[str, Any]], header: tuple[str, ...]) -> str:
    """Rows as an ERP-style CSV (booleans as true/false)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ("true" if row[c] else "false") if isinstance(row[c], bool) else row[c]
                for c in header
            ]
        )
    return buffer.getvalue()


def run_cli(kind: str, path: Path, api_url: str, password: str) -> tuple[int, float]:
    """Import one file through the CLI's main(); (exit code, wall seconds)."""
    os.environ["DAOJIA_PASSWORD"] = password
    argv = [kind, str(path), "--api", api_url, "--username", "hq-admin", "--quiet"]
    t0 = time.perf_counter()
    code = cli.main(argv)
    return code, time.perf_counter() - t0


def job_breakdown(api_url: str, password: str, count: int) -> list[str]:
    """Server-side timing of the last ``count`` import jobs, newest last (comment lines)."""
    from datetime import datetime

    client = ApiClient(api_url)
    client.login("hq-admin", password)
    jobs = client.list_jobs()[:count]
    lines = []
    for job in reversed(jobs):
        started = datetime.fromisoformat(job["created_at"].replace("Z", "+00:00"))
        finished = datetime.fromisoformat(
            (job["finished_at"] or job["created_at"]).replace("Z", "+00:00")
        )
        seconds = (finished - started).total_seconds()
        # The job's timestamps may have whole-second precision: no rate below 1 s.
        rate = f", {job['total_rows'] / seconds:.0f} rows/s server side" if seconds >= 1 else ""
        lines.append(
            f"# job {job['job_id']} {job['kind']}: {job['total_rows']} rows, {seconds:.1f} s "
            f"from upload to finish{rate}, status {job['status']}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="store_items rows (default 50000)")
    args = parser.parse_args(argv)
    rows = max(1, args.rows)
    products_count = math.ceil(rows / len(demo_data.stores()))
    products, prices = generate_products(products_count)
    items = generate_store_items(products, prices, rows)
    password = next(a["password"] for a in demo_data.staff() if a["username"] == "hq-admin")

    from infra.local.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="daojia-bench-") as tmp:
        products_csv = Path(tmp) / "products.csv"
        stock_csv = Path(tmp) / "stock.csv"
        products_csv.write_text(to_csv(products, demo_data.ERP_CSV_HEADER), encoding="utf-8")
        stock_csv.write_text(to_csv(items, demo_data.STOCK_CSV_HEADER), encoding="utf-8")
        t0 = time.perf_counter()
        with LocalStack() as stack:
            print(f"# local stack up in {time.perf_counter() - t0:.1f} s", flush=True)
            code, seconds = run_cli("products", products_csv, stack.api_url, password)
            print(
                f"# setup: {len(products)} products ({products_csv.stat().st_size / 1e6:.1f} MB)"
                f" imported in {seconds:.1f} s, exit code {code}",
                flush=True,
            )
            code, seconds = run_cli("store_items", stock_csv, stack.api_url, password)
            print(
                f"# store_items file: {stock_csv.stat().st_size / 1e6:.1f} MB, exit code {code}",
                flush=True,
            )
            for line in job_breakdown(stack.api_url, password, 2):
                print(line)
    print(f"erp_rows: {len(items)}")
    print(f"erp_seconds: {seconds:.2f}")
    print(f"erp_rows_per_s: {len(items) / seconds:.0f}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
