"""Publishing the admin site: which files, with which headers, and the upload itself
against moto's S3, CloudFormation and CloudFront in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest

from infra import deploy_admin_site as site

API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"
STACK = "daojia-dev"


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "admin_site",
        {
            "index.html": "<!doctype html><title>鲜到家</title>",
            "app/main.js": "import './api.js';",
            "app/api.js": "export const x = 1;",
            "styles/site.css": "body{}",
            "i18n/zh-CN.json": '{"a": "甲"}',
            "favicon.svg": "<svg/>",
            "img/logo.png": b"\x89PNG\r\n",
            "fonts/x.woff2": b"wOF2",
            # Never uploaded:
            "config.json": '{"apiUrl": "http://127.0.0.1:8000", "stage": "local"}',
            "serve.py": "print('dev server')",
            "__pycache__/serve.cpython-311.pyc": b"\0",
            "tests/test_site.py": "",
            "tests/fixture.json": "{}",
            ".DS_Store": b"\0",
            ".cache/x.js": "",
            "app/.notes.md": "",
        },
    )


# --- pure parts -------------------------------------------------------------------------


def test_site_files_leave_out_python_tests_dotfiles_and_a_local_config(site_dir: Path) -> None:
    assert list(site.site_files(site_dir)) == [
        "app/api.js",
        "app/main.js",
        "favicon.svg",
        "fonts/x.woff2",
        "i18n/zh-CN.json",
        "img/logo.png",
        "index.html",
        "styles/site.css",
    ]


def test_the_repositorys_site_has_an_entry_page_and_no_local_config() -> None:
    files = site.site_files()
    assert "index.html" in files
    assert "config.json" not in files
    assert not [k for k in files if k.endswith(".py") or "/." in "/" + k]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("app/pages/orders.js", "text/javascript; charset=utf-8"),
        ("styles/site.css", "text/css; charset=utf-8"),
        ("config.json", "application/json; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
        ("img/logo.PNG", "image/png"),
        ("fonts/x.woff2", "font/woff2"),
        ("notes.unknown-kind", "application/octet-stream"),
    ],
)
def test_content_types(key: str, expected: str) -> None:
    assert site.content_type(key) == expected


def test_cache_control_keeps_the_entry_page_and_config_fresh() -> None:
    assert site.cache_control("index.html") == "no-cache"
    assert site.cache_control("config.json") == "no-cache"
    assert site.cache_control("app/main.js") == "public, max-age=300"
    assert site.cache_control("styles/site.css") == "public, max-age=300"


def test_site_config_names_the_api_without_a_trailing_slash() -> None:
    config = json.loads(site.site_config(API_URL, "prod"))
    assert config == {
        "apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/api",
        "stage": "prod",
    }
    with pytest.raises(site.DeployError, match="https"):
        site.site_config("http://127.0.0.1:8000/", "prod")


def test_plan_uploads_assets_first_and_deletes_only_stale_keys(site_dir: Path) -> None:
    files = site.site_files(site_dir)
    existing = ["index.html", "app/old.js", "config.json", "app/main.js"]
    the_plan = site.plan(files, site.site_config(API_URL, "dev"), existing)
    keys = [u.key for u in the_plan.uploads]
    assert keys[-2:] == ["index.html", "config.json"]
    assert sorted(keys) == sorted([*files, "config.json"])
    assert the_plan.deletes == ["app/old.js"]


def test_plan_refuses_a_folder_without_index_html(tmp_path: Path) -> None:
    files = site.site_files(_write(tmp_path, {"app/main.js": ""}))
    with pytest.raises(site.DeployError, match=r"index\.html"):
        site.plan(files, b"{}")


def test_missing_outputs_are_named() -> None:
    with pytest.raises(site.DeployError, match="AdminSiteDistributionId, Stage"):
        site.target_from_outputs(STACK, {"EndpointURL": API_URL, "AdminSiteBucket": "b"})


# --- against moto -----------------------------------------------------------------------


@pytest.fixture
def stack() -> Any:
    """A stack with the outputs the real template has, a bucket holding an old deploy,
    and a CloudFront distribution."""
    with moto.mock_aws():
        session = boto3.Session(region_name="us-east-1")
        cloudfront = session.client("cloudfront")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "site",
                            "DomainName": "site.s3.us-east-1.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "MinTTL": 0,
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                },
            }
        )["Distribution"]
        template = {
            "Resources": {"AdminSiteBucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {
                "EndpointURL": {"Value": API_URL},
                "AdminSiteBucket": {"Value": {"Ref": "AdminSiteBucket"}},
                "AdminSiteDistributionId": {"Value": distribution["Id"]},
                "AdminSiteUrl": {"Value": f"https://{distribution['DomainName']}/"},
                "Stage": {"Value": "dev"},
            },
        }
        session.client("cloudformation").create_stack(
            StackName=STACK, TemplateBody=json.dumps(template)
        )
        outputs = site.stack_outputs(session.client("cloudformation"), STACK)
        s3 = session.client("s3")
        for key in ("app/old.js", "index.html", "config.json"):
            s3.put_object(Bucket=outputs["AdminSiteBucket"], Key=key, Body=b"old")
        yield session, outputs


def test_deploy_uploads_the_site_writes_config_deletes_stale_and_invalidates(
    stack: Any, site_dir: Path
) -> None:
    session, outputs = stack
    bucket = outputs["AdminSiteBucket"]
    target, _plan, invalidation = site.deploy(session, STACK, site_dir)
    assert target.bucket == bucket and target.stage == "dev"

    s3 = session.client("s3")
    keys = sorted(site.existing_keys(s3, bucket))
    assert keys == sorted([*site.site_files(site_dir), "config.json"])
    assert "app/old.js" not in keys

    config = s3.get_object(Bucket=bucket, Key="config.json")
    assert json.loads(config["Body"].read()) == {
        "apiUrl": API_URL.rstrip("/"),
        "stage": "dev",
    }
    assert config["ContentType"] == "application/json; charset=utf-8"
    assert config["CacheControl"] == "no-cache"
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    assert index["Body"].read().decode() == "<!doctype html><title>鲜到家</title>"
    script = s3.head_object(Bucket=bucket, Key="app/main.js")
    assert script["ContentType"] == "text/javascript; charset=utf-8"
    assert script["CacheControl"] == "public, max-age=300"
    font = s3.head_object(Bucket=bucket, Key="fonts/x.woff2")
    assert font["ContentType"] == "font/woff2"

    cloudfront = session.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=outputs["AdminSiteDistributionId"])
    assert [i["Id"] for i in listed["InvalidationList"]["Items"]] == [invalidation]
    got = cloudfront.get_invalidation(
        DistributionId=outputs["AdminSiteDistributionId"], Id=invalidation
    )["Invalidation"]["InvalidationBatch"]["Paths"]
    assert got["Items"] == ["/*"]


def test_dry_run_changes_nothing_and_says_what_it_would_do(
    stack: Any, site_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session, outputs = stack
    bucket = outputs["AdminSiteBucket"]
    assert (
        site.main(["--stack", STACK, "--region", "us-east-1", "--site", str(site_dir), "--dry-run"])
        == 0
    )
    out = capsys.readouterr().out
    assert "upload app/main.js" in out and "text/javascript" in out
    assert "delete app/old.js" in out
    assert '"apiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/api"' in out
    assert "invalidate /*" in out
    s3 = session.client("s3")
    assert sorted(site.existing_keys(s3, bucket)) == ["app/old.js", "config.json", "index.html"]
    assert s3.get_object(Bucket=bucket, Key="config.json")["Body"].read() == b"old"
    listed = session.client("cloudfront").list_invalidations(
        DistributionId=outputs["AdminSiteDistributionId"]
    )
    assert not listed["InvalidationList"].get("Items")


def test_an_unknown_stack_is_a_clear_error(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.main(["--stack", "daojia-nope", "--region", "us-east-1"]) == 1
    assert "cannot read stack daojia-nope" in capsys.readouterr().err
