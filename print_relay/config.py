"""The relay's configuration: one TOML file per store PC (see ``relay.example.toml``).

Every problem is reported as a :class:`ConfigError` that names the file and the key, e.g.
``relay.toml: queue.wait_time_s: must be a whole number from 0 to 20, got 30``, so whoever
installs a relay in a store can fix it without reading code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from print_relay.printers import Printer, printer_from_config

COPIES: tuple[str, ...] = ("picking", "delivery", "slip")
PAPER_WIDTHS = (58, 80)
PRINTER_TYPES = ("network", "virtual", "file", "usb", "serial")

_TOP_KEYS = {
    "store_id",
    "api_url",
    "token",
    "token_file",
    "ledger",
    "paper_mm",
    "failover",
    "late_after_s",
    "heartbeat_interval_s",
    "status_interval_s",
    "print_gap_s",
    "ack_wait_s",
    "retry_min_s",
    "retry_max_s",
    "api_timeout_s",
    "keep_days",
    "log_level",
    "queue",
    "printers",
    "copies",
}
_QUEUE_KEYS = {
    "wait_time_s",
    "max_receives",
    "visibility_timeout_s",
    "queue_url",
    "bad_message_retry_s",
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and what to do."""


@dataclass(frozen=True)
class QueueConfig:
    """``[queue]``: how the store's SQS queue is read."""

    wait_time_s: int = 20  # long poll
    max_receives: int = 5  # the queue's redrive maxReceiveCount
    visibility_timeout_s: int = 60  # asked for on every receive and every extension
    queue_url: str | None = None  # overrides the URL the API hands out
    bad_message_retry_s: int = 1  # a message we cannot print comes back after this


@dataclass(frozen=True)
class PrinterConfig:
    """One ``[[printers]]`` section: a name and the ``printer_from_config`` keys."""

    name: str
    paper_mm: int
    settings: dict[str, Any]

    def build(self) -> Printer:
        """A fresh printer object (no connection is made)."""
        printer = printer_from_config(self.settings)
        printer.name = self.name
        return printer


@dataclass(frozen=True)
class RelayConfig:
    store_id: str
    api_url: str
    ledger: Path
    printers: tuple[PrinterConfig, ...]
    copies: dict[str, str]
    token: str | None = None
    token_file: Path | None = None
    paper_mm: int = 80
    queue: QueueConfig = field(default_factory=QueueConfig)
    failover: bool = True
    late_after_s: int = 120
    heartbeat_interval_s: float = 15.0
    status_interval_s: float = 5.0
    print_gap_s: float = 0.2
    # A printed copy waits this long for the rest of its job, so one request acknowledges
    # every copy; a copy whose sibling is still waiting for a printer then goes alone.
    ack_wait_s: float = 10.0
    retry_min_s: float = 1.0
    retry_max_s: float = 30.0
    api_timeout_s: float = 10.0
    keep_days: float = 7.0
    log_level: str = "INFO"
    source: str = "relay.toml"

    def read_token(self) -> str:
        """The relay token; a ``token_file`` is read again each time, so a new token can be
        dropped in place without restarting the relay."""
        if self.token is not None:
            return self.token
        assert self.token_file is not None
        try:
            token = self.token_file.read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{self.source}: token_file: cannot read {self.token_file}: {exc}"
            ) from None
        if not token:
            raise ConfigError(f"{self.source}: token_file: {self.token_file} is empty")
        return token

    def printer(self, name: str) -> PrinterConfig:
        return next(p for p in self.printers if p.name == name)


# ------------------------------------------------------------------------------ parsing


class _Reader:
    """Typed access to one table of the file, with errors that name the key."""

    def __init__(self, source: str, table: dict[str, Any], prefix: str, known: set[str]):
        self.source, self.table, self.prefix = source, table, prefix
        unknown = sorted(set(table) - known)
        if unknown:
            where = f"[{prefix.rstrip('.')}]" if prefix else "the top level"
            raise self.error(
                unknown[0],
                f"unknown key in {where} (known keys: {', '.join(sorted(known))})",
            )

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.prefix}{key}: {problem}")

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(key, default)
        if value is None:
            if required:
                raise self.error(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def whole(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.error(key, f"must be a whole number from {lo} to {hi}, got {value!r}")
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise self.error(key, f"must be a number from {lo:g} to {hi:g}, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def paper(self, key: str, default: int) -> int:
        value = self.table.get(key, default)
        if value not in PAPER_WIDTHS or isinstance(value, bool):
            raise self.error(key, f"must be 58 or 80 (paper width in mm), got {value!r}")
        return int(value)


def parse_config(
    data: dict[str, Any], base_dir: Path, source: str = "relay.toml", stem: str = "relay"
) -> RelayConfig:
    """A validated :class:`RelayConfig` from parsed TOML; relative paths are taken from
    ``base_dir`` (the config file's folder)."""
    top = _Reader(source, data, "", _TOP_KEYS)
    store_id = top.text("store_id", required=True)
    api_url = top.text("api_url", required=True)
    assert store_id is not None and api_url is not None
    if not api_url.startswith(("http://", "https://")):
        raise top.error("api_url", f"must start with http:// or https://, got {api_url!r}")

    token = top.text("token")
    token_file_raw = top.text("token_file")
    if (token is None) == (token_file_raw is None):
        raise top.error(
            "token",
            "set exactly one of token (the relay token itself) or token_file (a file "
            "holding it), as issued by head office for this store",
        )
    token_file = _path(base_dir, token_file_raw) if token_file_raw else None
    if token_file is not None and not token_file.is_file():
        raise top.error("token_file", f"file {token_file} does not exist")

    ledger_raw = top.text("ledger")
    ledger = _path(base_dir, ledger_raw) if ledger_raw else base_dir / f"{stem}.ledger.sqlite3"
    paper_mm = top.paper("paper_mm", 80)

    queue = _parse_queue(source, data.get("queue", {}))
    printers = _parse_printers(source, data.get("printers"), paper_mm)
    copies = _parse_copies(source, data.get("copies", {}), printers)

    retry_min = top.number("retry_min_s", 1.0, 0.01, 600)
    retry_max = top.number("retry_max_s", 30.0, 0.01, 3600)
    if retry_max < retry_min:
        raise top.error("retry_max_s", f"must be at least retry_min_s ({retry_min:g})")
    log_level = (top.text("log_level", "INFO") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise top.error("log_level", f"must be one of {', '.join(_LOG_LEVELS)}")

    return RelayConfig(
        store_id=store_id,
        api_url=api_url.rstrip("/"),
        token=token,
        token_file=token_file,
        ledger=ledger,
        paper_mm=paper_mm,
        queue=queue,
        printers=printers,
        copies=copies,
        failover=top.flag("failover", True),
        late_after_s=top.whole("late_after_s", 120, 0, 7 * 24 * 3600),
        heartbeat_interval_s=top.number("heartbeat_interval_s", 15.0, 0.1, 3600),
        status_interval_s=top.number("status_interval_s", 5.0, 0.1, 3600),
        print_gap_s=top.number("print_gap_s", 0.2, 0, 60),
        ack_wait_s=top.number("ack_wait_s", 10.0, 0, 60),
        retry_min_s=retry_min,
        retry_max_s=retry_max,
        api_timeout_s=top.number("api_timeout_s", 10.0, 0.1, 300),
        keep_days=top.number("keep_days", 7.0, 0.001, 365),
        log_level=log_level,
        source=source,
    )


def load_config(path: str | Path) -> RelayConfig:
    """Read and validate a relay config file."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return parse_config(data, path.resolve().parent, source, path.stem)


def _path(base_dir: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base_dir / p


def _parse_queue(source: str, table: Any) -> QueueConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: queue: must be a table ([queue])")
    q = _Reader(source, table, "queue.", _QUEUE_KEYS)
    vis = q.whole("visibility_timeout_s", 60, 2, 43200)
    queue_url = q.text("queue_url")
    if queue_url is not None and not queue_url.startswith(("http://", "https://")):
        raise q.error("queue_url", f"must be an SQS queue URL (http/https), got {queue_url!r}")
    return QueueConfig(
        wait_time_s=q.whole("wait_time_s", 20, 0, 20),
        max_receives=q.whole("max_receives", 5, 1, 1000),
        visibility_timeout_s=vis,
        queue_url=queue_url,
        bad_message_retry_s=q.whole("bad_message_retry_s", 1, 0, 900),
    )


def _parse_printers(source: str, sections: Any, paper_default: int) -> tuple[PrinterConfig, ...]:
    if not sections:
        raise ConfigError(
            f"{source}: printers: at least one [[printers]] section is required "
            '(e.g. name = "front", type = "network", host = "192.168.1.50")'
        )
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise ConfigError(f"{source}: printers: write each printer as a [[printers]] section")
    if len(sections) > 8:
        raise ConfigError(f"{source}: printers: at most 8 printers per relay")
    out: list[PrinterConfig] = []
    for i, section in enumerate(sections, 1):
        name = section.get("name")
        label = f"printers[{i}]" + (f" ({name})" if isinstance(name, str) else "")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{source}: {label}.name: every printer needs a name")
        name = name.strip()
        if len(name) > 60:
            raise ConfigError(f"{source}: {label}.name: at most 60 characters")
        if any(p.name == name for p in out):
            raise ConfigError(f"{source}: {label}.name: {name!r} is used by two printers")
        settings = {k: v for k, v in section.items() if k != "name"}
        kind = settings.get("type")
        if kind not in PRINTER_TYPES:
            raise ConfigError(
                f"{source}: {label}.type: must be one of {', '.join(PRINTER_TYPES)}, got {kind!r}"
            )
        r = _Reader(source, settings, f"{label}.", set(settings))
        settings["paper_mm"] = r.paper("paper_mm", paper_default)
        try:
            printer_from_config(settings)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: {label}: {exc}") from None
        out.append(PrinterConfig(name, settings["paper_mm"], settings))
    return tuple(out)


def _parse_copies(source: str, table: Any, printers: tuple[PrinterConfig, ...]) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: copies: must be a table ([copies])")
    names = [p.name for p in printers]
    r = _Reader(source, table, "copies.", set(COPIES))
    copies: dict[str, str] = {}
    for copy in COPIES:
        # a group's picking list goes where the picking copies go unless told otherwise
        default = copies.get("picking", names[0]) if copy == "pick_list" else names[0]
        name = r.text(copy, default)
        if name not in names:
            raise r.error(copy, f"no printer named {name!r} (printers: {', '.join(names)})")
        copies[copy] = name
    return copies
