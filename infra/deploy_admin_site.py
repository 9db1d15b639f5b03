"""Publish admin_site/ to the S3 bucket and CloudFront distribution of a deployed stack.

    python -m infra.deploy_admin_site --stack daojia-prod [--region REGION] [--dry-run]

It reads the stack's outputs (EndpointURL, AdminSiteBucket, AdminSiteDistributionId, Stage),
uploads the site's files with their Content-Type and Cache-Control, writes a generated
``config.json`` naming the stack's API, deletes objects the site no longer has and
invalidates ``/*`` on the distribution. Assets go up first and index.html and config.json
last, so a browser never gets a page whose scripts are not there yet.

The pure parts (``site_files``, ``content_type``, ``cache_control``, ``site_config``,
``plan``) make no AWS calls.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from infra import admin_site_hosting as hosting

ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = ROOT / "admin_site"
CONFIG_KEY = "config.json"
# Fetched on every visit so that a deploy shows at once; the rest may be cached briefly
# (their names carry no content hash: there is no build step).
NO_CACHE_KEYS = frozenset({"index.html", CONFIG_KEY})
NO_CACHE = "no-cache"
SHORT_CACHE = "public, max-age=300"
FALLBACK_TYPE = "application/octet-stream"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}


class DeployError(RuntimeError):
    """The site could not be published; the message says what to fix."""


@dataclass(frozen=True)
class Upload:
    """One object to write: its key, its bytes' source, and its headers."""

    key: str
    content_type: str
    cache_control: str
    path: Path | None = None  # a file of the site, or
    body: bytes | None = None  # generated content (config.json)

    def data(self) -> bytes:
        """The object's bytes."""
        if self.body is not None:
            return self.body
        assert self.path is not None
        return self.path.read_bytes()


@dataclass(frozen=True)
class Plan:
    """Everything a deploy does, in order."""

    uploads: list[Upload]
    deletes: list[str]


def _excluded(relative: PurePosixPath) -> bool:
    parts = relative.parts
    if any(p.startswith(".") or p in ("__pycache__", "tests") for p in parts):
        return True
    if relative.suffix in (".py", ".pyc"):
        return True
    return str(relative) == CONFIG_KEY  # a local one; the deployed one is generated


def site_files(site_dir: Path = SITE_DIR) -> dict[str, Path]:
    """The site's files by S3 key (``app/main.js``), sorted; without Python files,
    ``__pycache__/``, ``tests``, dotfiles and a local ``config.json``."""
    out: dict[str, Path] = {}
    for path in sorted(site_dir.rglob("*")):
        if not path.is_file():
            continue
        relative = PurePosixPath(path.relative_to(site_dir).as_posix())
        if not _excluded(relative):
            out[str(relative)] = path
    return out


def content_type(key: str) -> str:
    """The Content-Type an object is served with (browsers refuse module scripts and
    stylesheets with a wrong type: CloudFront sends nosniff)."""
    suffix = PurePosixPath(key).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or FALLBACK_TYPE


def cache_control(key: str) -> str:
    """``no-cache`` for the entry page and config.json, a short public cache otherwise."""
    return NO_CACHE if key in NO_CACHE_KEYS else SHORT_CACHE


def site_config(api_url: str, stage: str) -> bytes:
    """The deployed ``config.json``: the API's URL without a trailing slash, the stage."""
    if not api_url.startswith("https://"):
        raise DeployError(f"the API URL {api_url!r} is not an https:// URL")
    config = {"apiUrl": api_url.rstrip("/"), "stage": stage}
    return (json.dumps(config, ensure_ascii=False) + "\n").encode()


def plan(files: Mapping[str, Path], config: bytes, existing_keys: Iterable[str] = ()) -> Plan:
    """Uploads (assets, then index.html, then config.json) and stale keys to delete."""
    if "index.html" not in files:
        raise DeployError("the site has no index.html: is this the admin_site/ folder?")

    def order(key: str) -> tuple[int, str]:
        return (key in NO_CACHE_KEYS, key)

    uploads = [
        Upload(key, content_type(key), cache_control(key), path=files[key])
        for key in sorted(files, key=order)
    ]
    uploads.append(
        Upload(CONFIG_KEY, content_type(CONFIG_KEY), cache_control(CONFIG_KEY), body=config)
    )
    wanted = {u.key for u in uploads}
    return Plan(uploads, sorted(set(existing_keys) - wanted))


# --- AWS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where the site goes, from the stack's outputs."""

    api_url: str
    bucket: str
    distribution_id: str
    stage: str
    site_url: str | None = None


def target_from_outputs(stack: str, outputs: Mapping[str, str]) -> Target:
    """Pick the outputs the deploy needs; say which are missing and why."""
    needed = (
        hosting.OUTPUT_API_URL,
        hosting.OUTPUT_BUCKET,
        hosting.OUTPUT_DISTRIBUTION,
        hosting.OUTPUT_STAGE,
    )
    missing = [name for name in needed if not outputs.get(name)]
    if missing:
        raise DeployError(
            f"stack {stack} has no output {', '.join(missing)}: deploy the template built by "
            f"`python -m infra.template --stage <stage>` (with the admin site) to it first"
        )
    return Target(
        api_url=outputs[hosting.OUTPUT_API_URL],
        bucket=outputs[hosting.OUTPUT_BUCKET],
        distribution_id=outputs[hosting.OUTPUT_DISTRIBUTION],
        stage=outputs[hosting.OUTPUT_STAGE],
        site_url=outputs.get(hosting.OUTPUT_URL),
    )


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    """The stack's outputs as {key: value}."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as err:
        raise DeployError(f"cannot read stack {stack}: {err}") from err
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def existing_keys(s3: Any, bucket: str) -> list[str]:
    """Every key in the bucket."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def apply(s3: Any, cloudfront: Any, target: Target, the_plan: Plan) -> str:
    """Upload, delete stale objects, invalidate ``/*``; return the invalidation's id."""
    for upload in the_plan.uploads:
        s3.put_object(
            Bucket=target.bucket,
            Key=upload.key,
            Body=upload.data(),
            ContentType=upload.content_type,
            CacheControl=upload.cache_control,
        )
    for start in range(0, len(the_plan.deletes), 1000):  # DeleteObjects takes 1000 at most
        batch = the_plan.deletes[start : start + 1000]
        result = s3.delete_objects(
            Bucket=target.bucket,
            Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
        )
        if result.get("Errors"):
            raise DeployError(f"could not delete stale objects: {result['Errors']}")
    invalidation = cloudfront.create_invalidation(
        DistributionId=target.distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"daojia-admin-site-{time.time_ns()}",
        },
    )
    return invalidation["Invalidation"]["Id"]


def describe(target: Target, the_plan: Plan) -> list[str]:
    """What a deploy does, one line per step (what --dry-run prints)."""
    lines = [f"bucket {target.bucket}, distribution {target.distribution_id}"]
    for upload in the_plan.uploads:
        source = "generated" if upload.body is not None else f"{len(upload.data())} bytes"
        lines.append(
            f"upload {upload.key} ({source}; {upload.content_type}; {upload.cache_control})"
        )
    config = next(u for u in the_plan.uploads if u.key == CONFIG_KEY)
    lines.append(f"config.json: {config.data().decode().strip()}")
    lines.extend(f"delete {key}" for key in the_plan.deletes)
    lines.append(f"invalidate /* on {target.distribution_id}")
    return lines


def deploy(
    session: Any, stack: str, site_dir: Path = SITE_DIR, dry_run: bool = False
) -> tuple[Target, Plan, str | None]:
    """Publish the site to the stack; return where, what, and the invalidation id."""
    target = target_from_outputs(stack, stack_outputs(session.client("cloudformation"), stack))
    s3 = session.client("s3")
    files = site_files(site_dir)
    the_plan = plan(
        files, site_config(target.api_url, target.stage), existing_keys(s3, target.bucket)
    )
    if dry_run:
        return target, the_plan, None
    return target, the_plan, apply(s3, session.client("cloudfront"), target, the_plan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stage's stack, e.g. daojia-prod")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--site", type=Path, default=SITE_DIR, help="default admin_site/")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = boto3.Session(region_name=args.region)
        target, the_plan, invalidation = deploy(session, args.stack, args.site, args.dry_run)
    except DeployError as err:
        print(f"deploy_admin_site: {err}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as err:
        print(
            f"deploy_admin_site: AWS call failed: {err} (check the credentials, the region "
            "and the stack name)",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        print("\n".join(["dry run, nothing changed:", *describe(target, the_plan)]))
        return 0
    print(
        f"uploaded {len(the_plan.uploads)} file(s) to {target.bucket}, deleted "
        f"{len(the_plan.deletes)}, invalidation {invalidation} on {target.distribution_id}; "
        f"the site ({target.site_url or 'see the stack output AdminSiteUrl'}) serves the new "
        "files once the invalidation completes (usually under a minute)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
