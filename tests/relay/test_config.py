"""Relay configuration: defaults, the example file, and errors that name the bad key."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from print_relay.config import ConfigError, load_config, parse_config
from print_relay.printers import FilePrinter, NetworkPrinter, UsbPrinter

ROOT = Path(__file__).resolve().parents[2]


def minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "store_id": "sh-jingan",
        "api_url": "https://api.example.com/",
        "token": "t0ken",
        "printers": [{"name": "front", "type": "network", "host": "192.168.1.50"}],
    }
    data.update(overrides)
    return data


def error_of(data: dict[str, Any], tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, tmp_path, "relay.toml")
    return str(info.value)


def test_defaults(tmp_path):
    cfg = parse_config(minimal(), tmp_path, "relay.toml", "relay")
    assert cfg.api_url == "https://api.example.com"
    assert cfg.ledger == tmp_path / "relay.ledger.sqlite3"
    assert cfg.paper_mm == 80 and cfg.failover is True and cfg.late_after_s == 120
    assert cfg.heartbeat_interval_s == 15 and cfg.print_gap_s == 0.2
    assert (cfg.retry_min_s, cfg.retry_max_s) == (1.0, 30.0)
    q = cfg.queue
    assert (q.wait_time_s, q.max_receives, q.visibility_timeout_s, q.queue_url) == (
        20,
        5,
        60,
        None,
    )
    assert cfg.copies == {"picking": "front", "delivery": "front", "slip": "front"}
    printer = cfg.printers[0].build()
    assert isinstance(printer, NetworkPrinter)
    assert (printer.name, printer.host, printer.port, printer.paper_mm) == (
        "front",
        "192.168.1.50",
        9100,
        80,
    )
    assert cfg.read_token() == "t0ken"


def test_the_example_file_loads(tmp_path):
    shutil.copy(ROOT / "print_relay/relay.example.toml", tmp_path / "relay.toml")
    (tmp_path / "relay.token").write_text("eyJexample\n")
    cfg = load_config(tmp_path / "relay.toml")
    assert cfg.read_token() == "eyJexample"
    assert cfg.copies == {"picking": "back", "delivery": "front", "slip": "back"}
    front, back = (p.build() for p in cfg.printers)
    assert isinstance(front, NetworkPrinter) and front.paper_mm == 80
    assert isinstance(back, UsbPrinter) and (back.vendor, back.product, back.paper_mm) == (
        0x0416,
        0x5011,
        58,
    )
    assert cfg.ledger == tmp_path / "relay.ledger.sqlite3"


def test_token_file_is_read_again_each_time(tmp_path):
    token = tmp_path / "relay.token"
    token.write_text("first")
    data = minimal(token_file="relay.token")
    del data["token"]
    cfg = parse_config(data, tmp_path)
    assert cfg.read_token() == "first"
    token.write_text("second\n")
    assert cfg.read_token() == "second"
    token.write_text("")
    with pytest.raises(ConfigError, match=r"token_file: .* is empty"):
        cfg.read_token()


def test_paper_width_from_the_top_level_and_per_printer(tmp_path):
    cfg = parse_config(
        minimal(
            paper_mm=58,
            printers=[
                {"name": "a", "type": "file", "path": "out.bin"},
                {"name": "b", "type": "virtual", "port": 9101, "paper_mm": 80},
            ],
        ),
        tmp_path,
    )
    a, b = (p.build() for p in cfg.printers)
    assert isinstance(a, FilePrinter) and a.paper_mm == 58
    assert isinstance(b, NetworkPrinter) and (b.host, b.port, b.paper_mm) == ("127.0.0.1", 9101, 80)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"store_id": None}, "relay.toml: store_id: is required"),
        ({"api_url": "api.example.com"}, "api_url: must start with http:// or https://"),
        ({"token": None}, "token: set exactly one of token"),
        ({"token_file": "x"}, "token: set exactly one of token"),
        ({"paper_mm": 76}, "paper_mm: must be 58 or 80"),
        ({"failover": "yes"}, "failover: must be true or false"),
        ({"late_after_s": -1}, "late_after_s: must be a whole number from 0"),
        ({"retry_min_s": 5, "retry_max_s": 2}, "retry_max_s: must be at least retry_min_s"),
        ({"log_level": "LOUD"}, "log_level: must be one of"),
        ({"colour": "red"}, "colour: unknown key in the top level"),
        ({"queue": {"wait_time_s": 30}}, "queue.wait_time_s: must be a whole number from 0 to 20"),
        ({"queue": {"wait_time": 5}}, "queue.wait_time: unknown key in [queue]"),
        ({"queue": {"queue_url": "sqs"}}, "queue.queue_url: must be an SQS queue URL"),
        ({"printers": []}, "printers: at least one [[printers]] section is required"),
        ({"printers": [{"type": "network", "host": "h"}]}, "printers[1].name: every printer"),
        (
            {"printers": [{"name": "a", "type": "network", "host": "h"}] * 2},
            "printers[2] (a).name: 'a' is used by two printers",
        ),
        ({"printers": [{"name": "a", "type": "laser"}]}, "printers[1] (a).type: must be one of"),
        (
            {"printers": [{"name": "a", "type": "network", "host": "h", "paper_mm": 57}]},
            "printers[1] (a).paper_mm: must be 58 or 80",
        ),
        (
            {"printers": [{"name": "a", "type": "network", "hots": "h"}]},
            "printers[1] (a): printer config (network): missing ['host'], unknown ['hots']",
        ),
        ({"copies": {"picking": "kitchen"}}, "copies.picking: no printer named 'kitchen'"),
        ({"copies": {"receipt": "front"}}, "copies.receipt: unknown key in [copies]"),
    ],
)
def test_errors_name_the_key(tmp_path, change, expected):
    data = minimal()
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    assert expected in error_of(data, tmp_path)


def test_token_file_must_exist(tmp_path):
    data = minimal(token_file="missing.token")
    del data["token"]
    assert "token_file: file" in error_of(data, tmp_path)
    assert "does not exist" in error_of(data, tmp_path)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('store_id = "x"\napi_url = \n')
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML: .*line 2"):
        load_config(bad)
