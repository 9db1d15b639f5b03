"""Order-to-paper latency through the local stack: ``python bench/print_latency.py``.

What is measured: for each of N paid orders (200 by default, spread over the 4 demo
stores), the time from the payment callback (just before the local payment provider's
signed notification is sent to the API) to the last byte of the order's last ticket at the
store's virtual printer. In between: the pay transaction writes the print job, the worker
reads the print_jobs stream and sends the job to the store's FIFO queue, the store's relay
(``daojia-relay``, a separate process with vended queue credentials) long-polls it, renders
both copies, prints them over TCP and acknowledges them.

Orders are paid at a steady rate (``--rate`` per second over all stores, 2 by default: a
busy lunchtime for four stores) from a few threads, so the figure is latency, not a queue
backing up. Every store is set open around the clock first, so the bench runs at any hour.

Prints figures only (no assertions); the last two lines are ``order_to_paper_p50_s`` and
``order_to_paper_p99_s``.

It waits on events, not on wall-clock windows, so a loaded machine makes it slower, not
wrong: the stack is ready, every store's relay is heartbeating with its printer online,
each payment call has answered (a slow answer is waited for, never dropped), and each order
has reached paper. ``--timeout`` is only a safety net for a stack that is stuck.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.local import demo_data  # noqa: E402
from infra.local.stack import LocalStack, _http_json  # noqa: E402

ALL_DAY = [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)]
REQUEST_TIMEOUT_S = 300


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def customer_token(api: str, phone: str) -> str:
    status, sent = urllib_request("POST", api + "/auth/otp", {"phone": phone}, None)
    assert status in (200, 201), sent
    status, session = urllib_request(
        "POST", api + "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]}, None
    )
    assert status == 200, session
    return str(session["token"])


def skus_by_store() -> dict[str, list[str]]:
    """Active SKUs with stock in each demo store."""
    active = {p["sku"] for p in demo_data.products() if p.get("active", True)}
    out: dict[str, list[str]] = {}
    for item in demo_data.store_items():
        if item["sku"] in active and item["stock"] >= 20 and item.get("on_sale", True):
            out.setdefault(item["store_id"], []).append(item["sku"])
    return out


def place_orders(api: str, n: int) -> list[tuple[str, str, str]]:
    """N unpaid pickup orders round-robin over the stores: (order_id, store_id, token)."""
    stores = [s["store_id"] for s in demo_data.stores()]
    skus = skus_by_store()
    tokens = [customer_token(api, f"1390000{i:04d}") for i in range(10)]
    orders = []
    for i in range(n):
        store = stores[i % len(stores)]
        token = tokens[i % len(tokens)]
        lines = [{"sku": skus[store][(i + k) % len(skus[store])], "qty": 1} for k in range(3)]
        body = {"store_id": store, "fulfilment": "pickup", "items": lines}
        request = urllib_request("POST", api + "/orders", body, token, f"bench-print-{i:05d}")
        status, order = request
        if status != 201:
            raise SystemExit(f"placing order {i} at {store} failed: {status} {order}")
        orders.append((order["order_id"], store, token))
    return orders


def wait_for(what: str, predicate: Any, timeout: float) -> Any:
    """Poll ``predicate`` until it returns something true; SystemExit after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def relays_ready(api: str, hq: str) -> bool:
    """Every demo store has a relay heartbeating with its printer online."""
    try:
        status, health = _http_json("GET", f"{api}/admin/print-health", token=hq)
    except OSError:  # a slow answer on a loaded machine: ask again
        return False
    if status != 200:
        return False
    stores = {s["store_id"]: s for s in health["stores"]}
    return all(stores.get(store["store_id"], {}).get("healthy") for store in demo_data.stores())


def urllib_request(
    method: str, url: str, body: Any, token: str | None, idempotency_key: str | None = None
) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **({"Idempotency-Key": idempotency_key} if idempotency_key else {}),
        },
    )
    try:
        # A loaded machine answers late, not never: wait for the answer (safety net only).
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def printed_at(stack: LocalStack) -> dict[str, list[float]]:
    """order_id -> last-byte times of every ticket mentioning it, from the journals."""
    seen: dict[str, list[float]] = {}
    for printer in stack.printers.values():
        for line in printer.journal.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            orders = {w for w in entry["text"].split() if len(w) == 14 and w[:6].isdigit()}
            for order_id in orders:
                seen.setdefault(order_id, []).append(entry["last_byte_at"])
    return seen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0, help="payments per second")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="safety net: give up on a step (relays up, orders on paper) after this long",
    )
    parser.add_argument("--state-dir", help="keep the stack's logs and tickets here")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    with LocalStack(relays=True, state_dir=args.state_dir) as stack:
        api = stack.api_url
        hq = stack._hq_token()
        for store in demo_data.stores():
            status, body = urllib_request(
                "PATCH", f"{api}/admin/stores/{store['store_id']}", {"hours": ALL_DAY}, hq
            )
            assert status == 200, body
        orders = place_orders(api, args.orders)
        wait_for("every store's relay and printer", lambda: relays_ready(api, hq), args.timeout)
        print(f"# setup: stack and {len(orders)} unpaid orders in {time.perf_counter() - t0:.1f} s")

        paid_at: dict[str, float] = {}
        pay_seconds: list[float] = []
        lock = threading.Lock()

        def pay(order: tuple[str, str, str]) -> None:
            order_id, _, token = order
            started = time.time()
            url = f"{api}/local/payments/{order_id}/complete"
            status, body = urllib_request("POST", url, {}, token)
            if status != 200:
                print(f"# payment of {order_id} failed: {status} {body}")
                return
            with lock:
                paid_at[order_id] = started
                pay_seconds.append(time.time() - started)

        interval = 1.0 / args.rate
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = []
            for i, order in enumerate(orders):
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(pay, order))
            for future in futures:  # a payment that raised says so (it was swallowed before)
                if future.exception() is not None:
                    print(f"# a payment call raised: {future.exception()!r}")

        # Each order prints two copies (picking, delivery): wait for both of every paid one.
        try:
            wait_for(
                "every paid order on paper",
                lambda: all(len(printed_at(stack).get(o, ())) >= 2 for o in paid_at),
                args.timeout,
            )
        except SystemExit as stuck:
            print(f"# {stuck}")
        seen = printed_at(stack)

    latencies = [max(seen[o]) - t for o, t in paid_at.items() if len(seen.get(o, ())) >= 2]
    missing = len(paid_at) - len(latencies)
    duplicates = sum(1 for o in paid_at if len(seen.get(o, ())) > 2)
    print(f"# {len(paid_at)} orders paid at {args.rate:g}/s over {len(demo_data.stores())} stores")
    print(f"# not printed (gave up after {args.timeout:.0f} s): {missing}")
    print(f"# printed more than once: {duplicates}")
    if latencies:
        print(f"# mean {statistics.mean(latencies):.3f} s, max {max(latencies):.3f} s")
        print(
            f"# the payment callback itself: p50 {percentile(pay_seconds, 50):.3f} s, "
            f"p99 {percentile(pay_seconds, 99):.3f} s"
        )
    print(f"orders_paid: {len(paid_at)}")
    print(f"orders_printed: {len(latencies)}")
    print(
        f"order_to_paper_p50_s: {percentile(latencies, 50):.3f}"
        if latencies
        else "order_to_paper_p50_s: nan"
    )
    print(
        f"order_to_paper_p99_s: {percentile(latencies, 99):.3f}"
        if latencies
        else "order_to_paper_p99_s: nan"
    )


if __name__ == "__main__":
    main()
