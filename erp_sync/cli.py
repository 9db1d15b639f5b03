"""``daojia-import``: send a product or store price/stock file from the ERP to Daojia.

Exit codes: 0 every row applied, 1 some rows rejected (the others were applied),
2 the import did not complete (usage error, API error, failed job).
"""

from __future__ import annotations

import argparse
import csv
import getpass
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from erp_sync.api import ApiClient, ApiError
from erp_sync.files import MAX_UPLOAD_BYTES, PART_BYTES, SplitError, detect_format, split_file
from erp_sync.importer import (
    EXIT_FAILED,
    POLL_INTERVAL_S,
    STALL_TIMEOUT_S,
    ImportResult,
    import_parts,
)

__all__ = ["UsageError", "build_parser", "main", "print_summary", "run", "write_report"]

DEFAULT_API_URL = "http://127.0.0.1:8000"
ON_SCREEN_REJECTIONS = 50
EXIT_INTERRUPTED = 130

_DESCRIPTION = """\
Import products or per-store prices and stock from the chain's ERP into Daojia.

The file is CSV (UTF-8, header row) or JSON (an array of row objects). Files larger
than the API's 6 MiB upload limit are split at row boundaries and imported part by
part; rejected rows are reported with their line in your file.
"""

_EPILOG = """\
columns:
  products     sku,name,category1,category2,unit,barcode,fresh,zone,shelf,image_url,active
  store_items  store_id,sku,price_fen,stock,on_sale   (price in integer fen: 1290 = ¥12.90)

sign-in (head-office account):
  --token / DAOJIA_TOKEN, or --username / DAOJIA_USERNAME with the password from
  DAOJIA_PASSWORD (or a prompt when run from a terminal)

exit codes:
  0  every row applied
  1  some rows rejected (the other rows were applied; see the table or --report)
  2  nothing or only part imported: usage error, API error or failed import job

examples:
  daojia-import products products.csv --api https://api.example.com --username hq-admin
  daojia-import store_items stock.json --report rejected.csv
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line, with its help text."""
    parser = argparse.ArgumentParser(
        prog="daojia-import",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=("products", "store_items"), help="what the file holds")
    parser.add_argument(
        "file", help="the .csv or .json file; - reads standard input (needs --format)"
    )
    parser.add_argument(
        "--api",
        metavar="URL",
        default=os.environ.get("DAOJIA_API_URL") or DEFAULT_API_URL,
        help=f"API base URL (default: $DAOJIA_API_URL, else {DEFAULT_API_URL})",
    )
    parser.add_argument(
        "--username",
        metavar="NAME",
        default=os.environ.get("DAOJIA_USERNAME"),
        help="head-office account to sign in with (default: $DAOJIA_USERNAME)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        default=os.environ.get("DAOJIA_TOKEN"),
        help="use this bearer token instead of signing in (default: $DAOJIA_TOKEN)",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "json"),
        help="file format (default: from the file's extension)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=Path,
        help="write every rejected row (line,field,reason) to this CSV file",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (there is none anyway when stdout is not a terminal)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors; the exit code and --report tell the outcome",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=30.0,
        help="seconds to wait for each API answer (uploads: 10x; default: %(default)g)",
    )
    parser.add_argument(
        "--poll-interval",
        metavar="S",
        type=float,
        default=POLL_INTERVAL_S,
        help="seconds between two progress checks of a job (default: %(default)g)",
    )
    parser.add_argument(
        "--stall-timeout",
        metavar="S",
        type=float,
        default=STALL_TIMEOUT_S,
        help="give up when a job shows no progress for this long (default: %(default)g)",
    )
    return parser


class UsageError(Exception):
    """The command line or its environment is incomplete; the message says what to add."""


class _Bar:
    """tqdm progress bar of rows processed over all parts."""

    def __init__(self, total: int | None, out: IO[str]) -> None:
        from tqdm import tqdm  # imported only when a bar is shown

        # The size from shutil, which falls back to 80x24 when a pty reports 0x0 (tqdm's
        # own detection then hides the bar).
        size = shutil.get_terminal_size()
        self._bar = tqdm(
            total=total, unit=" rows", file=out, ncols=size.columns, nrows=size.lines, leave=True
        )

    def update(self, processed: int, total: int | None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = total
        self._bar.update(processed - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KiB"


def _read_input(args: argparse.Namespace, stdin: IO[bytes] | None) -> tuple[bytes, str, str]:
    """The file's bytes, its format and the name to show."""
    if args.file == "-":
        if not args.format:
            raise UsageError("reading standard input needs --format csv|json")
        data = (stdin or sys.stdin.buffer).read()
        return data, args.format, "<stdin>"
    fmt = detect_format(args.file, args.format)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    return data, fmt, args.file


def _sign_in(args: argparse.Namespace, client: ApiClient) -> None:
    """Use the given token, or sign in with username and password."""
    if args.token:
        client.token = args.token
        return
    if not args.username:
        raise UsageError("sign in with --username (or DAOJIA_USERNAME), or give --token")
    password = os.environ.get("DAOJIA_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise UsageError(
                "no password: set DAOJIA_PASSWORD, or run in a terminal to be asked for it"
            )
        password = getpass.getpass(f"Password for {args.username} at {client.base_url}: ")
    client.login(args.username, password)


def print_summary(result: ImportResult, name: str, out: IO[str]) -> None:
    """The figures of an import and the first rejected rows."""
    parts = f" in {result.parts_done} of {result.parts} parts" if result.parts > 1 else ""
    print(f"{result.kind} from {name}: {result.total_rows} rows{parts}", file=out)
    for label, value in (
        ("created", result.created),
        ("updated", result.updated),
        ("unchanged", result.unchanged),
        ("rejected", result.rejected),
    ):
        print(f"  {label:<10}{value:>9}", file=out)
    if not result.rejected_rows:
        return
    shown = result.rejected_rows[:ON_SCREEN_REJECTIONS]
    width_line = max(4, *(len(str(r.line)) for r in shown))
    width_field = max(5, *(len(r.field) for r in shown))
    print("", file=out)
    print(f"Rejected rows (line numbers of {name}):", file=out)
    print(f"  {'line':>{width_line}}  {'field':<{width_field}}  reason", file=out)
    for row in shown:
        print(f"  {row.line:>{width_line}}  {row.field:<{width_field}}  {row.reason}", file=out)
    hidden = len(result.rejected_rows) - len(shown)
    if hidden:
        print(f"  ... and {hidden} more (all of them with --report FILE)", file=out)
    if result.rejected_rows_truncated:
        print(
            "  The API lists at most 1,000 refusals per upload; fix these and import again "
            "to see the rest.",
            file=out,
        )


def write_report(result: ImportResult, path: Path) -> None:
    """Every rejected row as CSV (UTF-8 with BOM, so Excel shows the Chinese right)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "field", "reason"])
        for row in result.rejected_rows:
            writer.writerow([row.line, row.field, row.reason])


def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[bytes] | None = None,
) -> int:
    """Run the command; returns the exit code (see the module docstring)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    show_bar = not (args.quiet or args.no_progress) and out.isatty()

    def fail(message: str) -> int:
        print(f"daojia-import: error: {message}", file=err)
        return EXIT_FAILED

    try:
        data, fmt, name = _read_input(args, stdin)
        if not data.strip():
            return fail(f"{name} is empty")
        parts = split_file(data, fmt, max_bytes=MAX_UPLOAD_BYTES, part_bytes=PART_BYTES)
        client = ApiClient(args.api, timeout=args.timeout, upload_timeout=args.timeout * 10)
        _sign_in(args, client)
    except (UsageError, SplitError, ApiError) as exc:
        return fail(str(exc))

    rows = sum(p.rows or 0 for p in parts) if all(p.rows is not None for p in parts) else None
    if not args.quiet:
        counted = f"{rows} rows, " if rows is not None else ""
        split = f" in {len(parts)} parts" if len(parts) > 1 else ""
        print(
            f"Importing {args.kind} from {name} ({counted}{_size(len(data))}{split}) "
            f"into {client.base_url}",
            file=out,
        )
        out.flush()
    bar = _Bar(rows, out) if show_bar else None
    try:
        result = import_parts(
            client,
            args.kind,
            parts,
            fmt,
            progress=bar,
            poll_interval=args.poll_interval,
            stall_timeout=args.stall_timeout,
        )
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print(
            "\ndaojia-import: interrupted; a job already uploaded keeps running on the server "
            "(see GET /admin/imports).",
            file=err,
        )
        return EXIT_INTERRUPTED
    if bar is not None:
        bar.close()

    if args.report is not None:
        try:
            write_report(result, args.report)
        except OSError as exc:
            message = f"cannot write {args.report}: {exc.strerror or exc}"
            if result.error is not None:
                print(f"daojia-import: error: {message}", file=err)
            else:
                result.error = message  # the operator asked for the report: exit 2
    if not args.quiet and (result.parts_done or result.job_ids):
        print_summary(result, name, out)
        if args.report is not None and result.rejected_rows:
            print(f"All {len(result.rejected_rows)} refusals written to {args.report}", file=out)
    if result.error is not None:
        print(f"daojia-import: error: {result.error}", file=err)
    elif args.quiet and result.rejected:
        rows_word = "row" if result.rejected == 1 else "rows"
        print(f"daojia-import: {result.rejected} {rows_word} rejected", file=err)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: ``daojia-import``."""
    try:
        return run(argv)
    except KeyboardInterrupt:
        print("\ndaojia-import: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # an operator gets a sentence, not a traceback
        if os.environ.get("DAOJIA_DEBUG"):
            raise
        print(
            f"daojia-import: internal error: {type(exc).__name__}: {exc} "
            "(set DAOJIA_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
