"""The admin site's hosting in the template: a private bucket that only this stack's
CloudFront distribution reads, through Origin Access Control, with security headers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra import admin_site_hosting as hosting
from infra import template as tpl

PREFIX = "daojia-prod"


@pytest.fixture(scope="module")
def merge() -> dict[str, Any]:
    return tpl.merge_template("prod")


def _resources(merge: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in merge["Resources"].items() if r.get("Type") == kind}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_site_bucket_is_private_encrypted_and_acl_free(merge: dict[str, Any]) -> None:
    bucket = merge["Resources"][hosting.BUCKET_ID]
    assert bucket["Type"] == "AWS::S3::Bucket"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    for forbidden in ("WebsiteConfiguration", "AccessControl", "CorsConfiguration"):
        assert forbidden not in props, forbidden
    assert props["BucketName"]["Fn::Sub"].startswith(f"{PREFIX}-admin-site-")


def test_the_distribution_reads_the_bucket_through_origin_access_control(
    merge: dict[str, Any],
) -> None:
    resources = merge["Resources"]
    (dist_id,) = _resources(merge, "AWS::CloudFront::Distribution")
    config = resources[dist_id]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [hosting.BUCKET_ID, "RegionalDomainName"]}
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = resources[oac_id]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    oac_config = oac["Properties"]["OriginAccessControlConfig"]
    assert oac_config["OriginAccessControlOriginType"] == "s3"
    assert oac_config["SigningBehavior"] == "always"
    # No legacy origin access identity anywhere.
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert not _resources(merge, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    assert config["DefaultRootObject"] == "index.html"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is True
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    headers_id = behaviour["ResponseHeadersPolicyId"]["Ref"]
    assert resources[headers_id]["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"


def test_the_bucket_policy_lets_only_the_distribution_read(merge: dict[str, Any]) -> None:
    (policy,) = [
        r["Properties"]
        for r in _resources(merge, "AWS::S3::BucketPolicy").values()
        if r["Properties"]["Bucket"] == {"Ref": hosting.BUCKET_ID}
    ]
    statements = policy["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert _as_list(allow["Action"]) == ["s3:GetObject"]
    assert allow["Resource"] == {"Fn::Sub": f"${{{hosting.BUCKET_ID}.Arn}}/*"}
    (source,) = allow["Condition"]["StringEquals"]["AWS:SourceArn"].values()
    assert re.fullmatch(
        r"arn:\$\{AWS::Partition\}:cloudfront::\$\{AWS::AccountId\}:distribution/"
        r"\$\{AdminSiteDistribution\}",
        source,
    )
    assert set(allow["Condition"]) == {"StringEquals"}
    # Everything else only denies (plain HTTP).
    for statement in statements:
        if statement is not allow:
            assert statement["Effect"] == "Deny"
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_security_headers_and_a_csp_that_reaches_only_the_stacks_api(
    merge: dict[str, Any],
) -> None:
    (policy,) = _resources(merge, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == (
        "'self' https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    )
    assert "unsafe" not in csp
    # The API origin is the one the template outputs as EndpointURL.
    endpoint = "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"
    assert endpoint.startswith(hosting.API_ORIGIN_SUB + "/")


def test_outputs_for_the_deploy_script(merge: dict[str, Any]) -> None:
    outputs = merge["Outputs"]
    assert outputs["AdminSiteBucket"] == {"Value": {"Ref": hosting.BUCKET_ID}}
    assert outputs["AdminSiteDistributionId"] == {"Value": {"Ref": hosting.DISTRIBUTION_ID}}
    assert outputs["AdminSiteUrl"]["Value"]["Fn::Sub"].startswith("https://")
    assert outputs["Stage"] == {"Value": "prod"}
    assert "AdminSiteBucketName" not in outputs  # one output per bucket, named for the script


def test_dev_and_prod_name_their_own_site_resources() -> None:
    dev = json.dumps(tpl.merge_template("dev"))
    for name in ('"daojia-dev-admin-site"', "daojia-dev-admin-site-${AWS::AccountId}"):
        assert name in dev
    assert "daojia-prod" not in dev


def test_the_site_can_be_left_out_for_regions_without_oac() -> None:
    merge = tpl.merge_template("prod", admin_site=False)
    assert not [k for k in merge["Resources"] if k.startswith("AdminSite")]
    assert not [k for k in merge["Outputs"] if k.startswith("AdminSite")]


@pytest.mark.slow
def test_every_reference_of_the_site_resolves_in_the_built_template(
    prod_template_path: Path,
) -> None:
    """The CSP names the HTTP API, which only the built template holds."""
    template = json.loads(prod_template_path.read_text())
    resources = template["Resources"]
    site = {k: v for k, v in resources.items() if k.startswith("AdminSite")}
    text = json.dumps(site)
    refs = set(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text))
    refs |= set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text))
    refs |= set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))
    assert "HttpApi" in refs
    assert refs <= set(resources), refs - set(resources)
    assert resources["HttpApi"]["Type"] == "AWS::ApiGatewayV2::Api"
    api_url = template["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"]
    assert api_url.startswith(hosting.API_ORIGIN_SUB + "/")
