"""The daojia-import command against a fake API over real HTTP (tests/erp_sync/fake_api.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from erp_sync import cli
from infra.local import demo_data
from tests.erp_sync import fake_api
from tests.erp_sync.fake_api import FakeApi


class Tty(io.StringIO):
    """A captured stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    for var in ("DAOJIA_API_URL", "DAOJIA_TOKEN", "DAOJIA_USERNAME", "DAOJIA_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DAOJIA_PASSWORD", fake_api.PASSWORD)
    with fake_api.serve() as fake:
        yield fake


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run(api: FakeApi, *args: str, stdout: io.StringIO | None = None, login: bool = True) -> Run:
    out, err = stdout or io.StringIO(), io.StringIO()
    argv = [*args, "--api", api.url, "--poll-interval", "0.01"]
    if login:
        argv += ["--username", fake_api.USERNAME]
    code = cli.run(argv, stdout=out, stderr=err)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return Run(code, out.getvalue(), err.getvalue())


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def figures(out: str) -> dict[str, int]:
    """created/updated/unchanged/rejected from the printed summary."""
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("created", "updated", "unchanged", "rejected"):
            result[parts[0]] = int(parts[1])
    return result


def test_rejected_row_gives_exit_1_a_table_and_a_report(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    report = tmp_path / "rejected.csv"
    r = run(api, "products", path, "--report", str(report))
    assert r.code == 1, r.err
    assert figures(r.out) == {"created": 4, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "Rejected rows" in r.out
    table_row = next(line for line in r.out.splitlines() if "not true/false" in line)
    assert table_row.split()[:2] == ["4", "fresh"]
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["line", "field", "reason"], ["4", "fresh", "'maybe' is not true/false"]]
    assert f"written to {report}" in r.out


def test_clean_import_exits_0_and_a_second_run_is_all_unchanged(
    api: FakeApi, tmp_path: Path
) -> None:
    path = write(tmp_path, "stock.csv", demo_data.stock_sample_csv())
    first = run(api, "store_items", path)
    assert first.code == 0, first.err
    assert figures(first.out)["created"] == 6
    second = run(api, "store_items", path)
    assert second.code == 0
    assert figures(second.out) == {"created": 0, "updated": 0, "unchanged": 6, "rejected": 0}
    assert "Rejected rows" not in second.out


def test_failed_job_exits_2_with_the_reason(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", "sku,title\n1,苹果\n")
    r = run(api, "products", path)
    assert r.code == 2
    assert "failed: the header lacks the column(s): name" in r.err
    assert r.err.startswith("daojia-import: error:")


def test_wrong_password_exits_2_with_the_api_message(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAOJIA_PASSWORD", "wrong")
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    r = run(api, "products", path)
    assert r.code == 2
    assert "Wrong username or password (4 tries left)." in r.err
    assert api.posts == ["/auth/login"]
    assert not api.uploads


def test_token_from_env_skips_sign_in(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAOJIA_TOKEN", fake_api.TOKEN)
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv(with_bad_row=False))
    r = run(api, "products", path, login=False)
    assert r.code == 0, r.err
    assert api.posts == ["/admin/imports"]


def test_bad_token_exits_2_and_says_to_log_in_again(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    r = run(api, "products", path, "--token", "stale", login=False)
    assert r.code == 2
    assert "The token is missing, invalid or expired." in r.err
    assert "log in again" in r.err


def test_without_credentials_it_is_a_usage_error(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    r = run(api, "products", path, login=False)
    assert r.code == 2
    assert "--username" in r.err
    assert not api.posts


def test_usage_errors_exit_2(api: FakeApi, tmp_path: Path) -> None:
    assert run(api, "products", str(tmp_path / "missing.csv")).code == 2
    xlsx = write(tmp_path, "products.xlsx", "x")
    r = run(api, "products", xlsx)
    assert r.code == 2
    assert "--format" in r.err
    empty = write(tmp_path, "empty.csv", "")
    assert "is empty" in run(api, "products", empty).err
    with pytest.raises(SystemExit) as exit_info:
        cli.run(["stock", "x.csv"], stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_info.value.code == 2
    assert not api.posts


def test_unreachable_api_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAOJIA_PASSWORD", "x")
    with fake_api.serve() as gone:
        url = gone.url
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    err = io.StringIO()
    code = cli.run(
        ["products", path, "--api", url, "--username", "hq-admin", "--timeout", "2"],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "cannot reach the API" in err.getvalue()


def test_polling_retries_a_503_but_an_upload_is_never_sent_twice(
    api: FakeApi, tmp_path: Path
) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv(with_bad_row=False))
    api.fail_gets = 1
    ok = run(api, "products", path)
    assert ok.code == 0, ok.err
    assert figures(ok.out)["created"] == 5

    api.upload_status = 502
    failed = run(api, "products", path)
    assert failed.code == 2
    assert "upload refused: Something went wrong." in failed.err
    assert api.posts.count("/admin/imports") == 2  # one per run: no retry of the 502


def test_json_import_reports_item_numbers(api: FakeApi, tmp_path: Path) -> None:
    items = [
        {"store_id": "sh-jingan", "sku": "100001", "price_fen": 398, "stock": 10},
        {"store_id": "sh-nowhere", "sku": "100001", "price_fen": 398, "stock": 10},
        {"store_id": "sh-jingan", "sku": "100002", "price_fen": 12.5, "stock": 10},
    ]
    path = write(tmp_path, "stock.json", json.dumps(items))
    r = run(api, "store_items", path)
    assert r.code == 1
    assert figures(r.out) == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    lines = {
        line.split()[0] for line in r.out.splitlines() if "store_id" in line or "price_fen" in line
    }
    assert {"2", "3"} <= lines


def big_products_csv(rows: int, bad: dict[int, str]) -> tuple[bytes, dict[int, int]]:
    """A products CSV whose names hold quoted line breaks; row n gets fresh=bad[n].

    Returns the bytes and, for each bad row, the file line the API reports for it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(demo_data.ERP_CSV_HEADER)
    line_of: dict[int, int] = {}
    line = 1
    for n in range(rows):
        name = f"测试商品 {n}\n第二行" if n % 4 == 0 else f"测试商品 {n}"
        writer.writerow(
            [
                f"9{n:05d}",
                name,
                "蔬菜",
                "叶菜",
                "份",
                f"6921004{n:06d}",
                bad.get(n, "true"),
                "A 生鲜区",
                "A-01",
                f"https://img.example.com/sku/9{n:05d}.jpg",
                "true",
            ]
        )
        line += name.count("\n") + 1
        if n in bad:
            line_of[n] = line  # the API reports a record's last line
    return buffer.getvalue().encode("utf-8"), line_of


def test_a_file_over_the_limit_is_split_and_lines_mapped_back(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "MAX_UPLOAD_BYTES", 3000)
    monkeypatch.setattr(cli, "PART_BYTES", 2500)
    api.max_upload = 3000
    api.rows_per_poll = 7
    data, line_of = big_products_csv(300, {5: "maybe", 250: "perhaps"})
    path = write(tmp_path, "products.csv", data)
    report = tmp_path / "rejected.csv"
    r = run(api, "products", path, "--report", str(report))
    assert r.code == 1, r.err
    assert len(api.uploads) > 5
    assert all(len(u) <= 2500 for u in api.uploads)
    assert figures(r.out) == {"created": 298, "updated": 0, "unchanged": 0, "rejected": 2}
    assert f"in {len(api.uploads)} of {len(api.uploads)} parts" in r.out
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(int(row["line"]), row["field"]) for row in rows] == [
        (line_of[5], "fresh"),
        (line_of[250], "fresh"),
    ]
    assert line_of[250] > 300  # well past the first part: the mapping did the work


@pytest.mark.slow
def test_a_real_7_mib_file_is_uploaded_in_parts(api: FakeApi, tmp_path: Path) -> None:
    api.rows_per_poll = 100_000
    data, line_of = big_products_csv(80_000, {79_990: "maybe"})
    assert len(data) > 7 * 1024 * 1024
    path = write(tmp_path, "products.csv", data)
    r = run(api, "products", path)
    assert r.code == 1, r.err
    assert len(api.uploads) == 2
    assert figures(r.out)["created"] == 79_999
    table_row = next(line for line in r.out.splitlines() if "not true/false" in line)
    assert int(table_row.split()[0]) == line_of[79_990]


def test_a_failed_part_stops_the_import(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "MAX_UPLOAD_BYTES", 3000)
    monkeypatch.setattr(cli, "PART_BYTES", 2500)
    api.rows_per_poll = 1000
    data, _ = big_products_csv(100, {})
    path = write(tmp_path, "products.csv", data)
    real_create = api.create_job

    def second_fails(kind: str, content_type: str, body: bytes) -> fake_api.Job:
        job = real_create(kind, content_type, body)
        if len(api.jobs) == 2:
            job.file_error, job.rows = "the file is not UTF-8 (byte 7); save it as UTF-8", None
        return job

    api.create_job = second_fails  # type: ignore[method-assign]
    r = run(api, "products", path)
    assert r.code == 2
    assert len(api.uploads) == 2
    assert "part 2 of" in r.err
    assert "not UTF-8" in r.err
    assert "in 1 of" in r.out  # the summary still shows what the first part did


def test_progress_bar_only_on_a_terminal(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv(with_bad_row=False))
    plain = run(api, "products", path)
    assert "rows/s" not in plain.out and "100%" not in plain.out
    tty = run(api, "products", path, stdout=Tty())
    assert "100%" in tty.out and "5/5" in tty.out
    no_bar = run(api, "products", path, "--no-progress", stdout=Tty())
    assert "100%" not in no_bar.out
    assert figures(no_bar.out)["unchanged"] == 5


def test_quiet_prints_nothing_but_the_exit_code_speaks(api: FakeApi, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    r = run(api, "products", path, "--quiet", stdout=Tty())
    assert r.code == 1
    assert r.out == ""
    assert r.err.strip() == "daojia-import: 1 row rejected"


def test_a_job_that_never_progresses_gives_up(api: FakeApi, tmp_path: Path) -> None:
    api.never_finish = True
    path = write(tmp_path, "products.csv", demo_data.erp_sample_csv())
    r = run(api, "products", path, "--stall-timeout", "0.2")
    assert r.code == 2
    assert "is the import worker running?" in r.err
    assert "GET /admin/imports/imp-0001" in r.err


def test_main_turns_unexpected_errors_into_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(cli, "run", boom)
    monkeypatch.delenv("DAOJIA_DEBUG", raising=False)
    assert cli.main(["products", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: disk on fire" in err
    assert "Traceback" not in err


def test_standard_input_needs_and_takes_a_format(api: FakeApi) -> None:
    data = demo_data.erp_sample_csv(with_bad_row=False).encode()
    base = ["products", "-", "--api", api.url, "--username", "hq-admin", "--poll-interval", "0"]
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(base, stdout=out, stderr=err, stdin=io.BytesIO(data)) == 2
    assert "--format" in err.getvalue()
    out = io.StringIO()
    code = cli.run([*base, "--format", "csv"], stdout=out, stderr=err, stdin=io.BytesIO(data))
    assert code == 0
    assert "products from <stdin>: 5 rows" in out.getvalue()
