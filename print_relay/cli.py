"""``daojia-relay``: run a store's print relay, test its printers, check its set-up.

Exit codes: 0 fine; 1 ``check`` or ``selftest`` found a problem; 2 the configuration is
wrong (the message names the key) or another relay already uses the ledger.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from print_relay import __version__
from print_relay.config import ConfigError, RelayConfig, load_config

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_PROBLEM, EXIT_CONFIG = 0, 1, 2
DEFAULT_CONFIG = "relay.toml"

_EPILOG = """\
commands:
  run (default)  print the store's tickets until stopped (SIGTERM / Ctrl+C)
  selftest       print a test page on each printer (or --printer NAME) and say what happened
  check          validate the config, reach the API and the queue, ask each printer's status

examples:
  daojia-relay --config /etc/daojia/relay.toml
  daojia-relay selftest --config relay.toml --printer front
  daojia-relay check --config relay.toml
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daojia-relay",
        description="Daojia store print relay: prints the store's order tickets.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="run", choices=("run", "selftest", "check"))
    parser.add_argument(
        "--config",
        "-c",
        default=os.environ.get("DAOJIA_RELAY_CONFIG") or DEFAULT_CONFIG,
        help=f"the relay's TOML file (default: $DAOJIA_RELAY_CONFIG, else ./{DEFAULT_CONFIG})",
    )
    parser.add_argument("--printer", help="selftest: only this printer (by name)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (overrides the config)")
    parser.add_argument("--version", action="version", version=f"daojia-relay {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"daojia-relay: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    _logging(args.log_level or config.log_level)
    if args.command == "selftest":
        return selftest(config, args.printer)
    if args.command == "check":
        return check(config)
    return run(config)


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(threadName)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(config: RelayConfig) -> int:
    from print_relay.ledger import LedgerLocked
    from print_relay.relay import Relay

    try:
        config.read_token()
        return Relay(config).run()
    except (ConfigError, LedgerLocked) as exc:
        print(f"daojia-relay: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def selftest(config: RelayConfig, only: str | None) -> int:
    from print_relay.selftest import selftest_page

    names = [p.name for p in config.printers]
    if only is not None and only not in names:
        print(f"no printer named {only!r} in {config.source} (printers: {', '.join(names)})")
        return EXIT_CONFIG
    problems = 0
    for pc in config.printers:
        if only is not None and pc.name != only:
            continue
        printer = pc.build()
        result = printer.send(selftest_page(pc.name, pc.paper_mm, config.store_id))
        status = printer.status()
        ok = result.printed
        problems += not ok
        print(f"{pc.name} ({pc.settings.get('type')}, {pc.paper_mm} mm): {result.outcome.value}")
        print(f"    {result.reason} ({result.bytes_sent} bytes)")
        print(f"    status: {status.state.value} {_status_detail(status.details)}".rstrip())
        if not ok:
            print(f"    → {_advice(result.outcome.value)}")
    return EXIT_PROBLEM if problems else EXIT_OK


def _status_detail(details: dict) -> str:
    if details.get("reason"):
        return f"({details['reason']})"
    flags = [
        k for k in ("cover_open", "paper_end_stop", "paper_near_end", "error") if details.get(k)
    ]
    return f"({', '.join(flags)})" if flags else ""


def _advice(outcome: str) -> str:
    if outcome == "failed":
        return "nothing printed: check the printer is on, the cable / network, the IP and port"
    return "the printer took part of the page or did not confirm it: look at the paper"


def check(config: RelayConfig) -> int:
    """Validate and reach everything the relay needs; print what was found."""
    problems = 0

    def line(ok: bool, what: str, detail: str = "") -> None:
        nonlocal problems
        problems += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail else ""))

    line(True, f"config {config.source}", f"store {config.store_id}, API {config.api_url}")
    for copy, name in config.copies.items():
        print(f"       {copy} copy → printer {name}")
    try:
        config.read_token()
        line(True, "relay token", "token file read" if config.token_file else "in the config")
    except ConfigError as exc:
        line(False, "relay token", str(exc))
        return EXIT_PROBLEM

    from print_relay.api_client import ApiClient, ApiError
    from print_relay.relay import SqsAccess

    api = ApiClient(config.api_url, config.read_token, timeout=config.api_timeout_s)
    sqs = SqsAccess(api, queue_url=config.queue.queue_url, read_timeout=15)
    try:
        client, url = sqs.get()
        line(
            True,
            "API and queue credentials",
            f"valid until {sqs.last_credentials.get('expires_at')}",
        )
        try:
            attrs = client.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            line(
                True,
                f"queue {url}",
                f"{attrs.get('ApproximateNumberOfMessages', '?')} waiting, "
                f"{attrs.get('ApproximateNumberOfMessagesNotVisible', '?')} being printed",
            )
        except Exception as exc:
            line(False, f"queue {url}", str(exc))
    except ApiError as exc:
        line(False, "API and queue credentials", str(exc))

    for pc in config.printers:
        t0 = time.monotonic()
        status = pc.build().status()
        took = time.monotonic() - t0
        line(
            status.state.value in ("online", "unknown"),
            f"printer {pc.name} ({pc.settings.get('type')}, {pc.paper_mm} mm)",
            f"{status.state.value} {_status_detail(status.details)} in {took:.1f} s".replace(
                "  ", " "
            ),
        )

    if config.ledger.exists():
        from print_relay.ledger import Ledger, LedgerLocked

        try:
            Ledger(config.ledger).close()
            running = "no relay running on it"
        except LedgerLocked:
            running = "a relay is running on it"
        ledger = Ledger(config.ledger, exclusive=False)
        stats = ledger.stats(time.time())
        ledger.close()
        line(
            True,
            f"ledger {config.ledger}",
            f"{running}; {stats['pending_copies']} copies waiting to print, "
            f"{stats['unacked_copies']} waiting for acknowledgement",
        )
    else:
        line(True, f"ledger {config.ledger}", "not created yet (the first run creates it)")
    print("all good" if not problems else f"{problems} problem(s)")
    return EXIT_PROBLEM if problems else EXIT_OK
