"""Hosting of the admin site (``admin_site/``) in a stage's template: a private S3 bucket
read by a CloudFront distribution through Origin Access Control.

Nobody reads the bucket directly: public access is blocked, ACLs are off
(BucketOwnerEnforced) and the bucket policy lets only this stack's distribution
``s3:GetObject``. CloudFront adds the security headers (``security_headers``), including a
Content-Security-Policy that lets the site's scripts talk to the API of the same stack
and nowhere else. ``infra/deploy_admin_site.py`` uploads the files and the generated
``config.json``; the local stack serves ``admin_site/`` itself and needs none of this.
"""

from __future__ import annotations

from typing import Any

from infra.http_api import HTTP_API_ID

BUCKET_ID = "AdminSiteBucket"
BUCKET_POLICY_ID = "AdminSiteBucketPolicy"
OAC_ID = "AdminSiteOriginAccessControl"
HEADERS_POLICY_ID = "AdminSiteResponseHeadersPolicy"
DISTRIBUTION_ID = "AdminSiteDistribution"
ORIGIN_ID = "admin-site-bucket"

# Stack outputs the deploy script reads (and the API URL chalice's template outputs).
OUTPUT_BUCKET = "AdminSiteBucket"
OUTPUT_DISTRIBUTION = "AdminSiteDistributionId"
OUTPUT_URL = "AdminSiteUrl"
OUTPUT_STAGE = "Stage"
OUTPUT_API_URL = "EndpointURL"


def api_origin_sub(api_id: str = HTTP_API_ID) -> str:
    """The origin of the stack's API (``HttpApi``, or chalice's ``RestAPI``), as an Fn::Sub
    string; its URL (EndpointURL) is https://<id>.execute-api.<region>.<suffix>/api/ and the
    CSP needs only the origin."""
    return f"https://${{{api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"


# The default API's origin (the local stack puts its own API's URL in its place).
API_ORIGIN_SUB = api_origin_sub()


# AWS managed cache policy "CachingOptimized": honours the origin's Cache-Control between
# 1 s and a year, gzip and brotli. index.html and config.json are sent with no-cache, so
# edges keep them for the 1 s minimum; every deploy also invalidates /*.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

HSTS_MAX_AGE_S = 63072000  # two years


def content_security_policy(api_id: str = HTTP_API_ID) -> str:
    """The CSP, as an Fn::Sub string: scripts, styles, fonts and images from the site
    itself; fetch/XHR to the site (config.json) and the stack's API only; no framing."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {api_origin_sub(api_id)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(api_id: str = HTTP_API_ID) -> dict[str, Any]:
    """SecurityHeadersConfig of the response headers policy (overrides the origin's)."""
    return {
        "StrictTransportSecurity": {
            "AccessControlMaxAgeSec": HSTS_MAX_AGE_S,
            "IncludeSubdomains": True,
            "Preload": False,
            "Override": True,
        },
        "ContentTypeOptions": {"Override": True},  # X-Content-Type-Options: nosniff
        "FrameOptions": {"FrameOption": "DENY", "Override": True},
        "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True},
        "ContentSecurityPolicy": {
            "ContentSecurityPolicy": {"Fn::Sub": content_security_policy(api_id)},
            "Override": True,
        },
    }


def admin_site_resources(prefix: str, api_id: str = HTTP_API_ID) -> dict[str, dict[str, Any]]:
    """Bucket, bucket policy, origin access control, headers policy and distribution."""
    # The site is rebuilt from the repository by every deploy: nothing here is retained.
    disposable = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
    distribution_arn = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/"
        f"${{{DISTRIBUTION_ID}}}"
    }
    return {
        BUCKET_ID: {
            "Type": "AWS::S3::Bucket",
            **disposable,  # CloudFormation refuses while objects remain
            "Properties": {
                # Bucket names are global: the account and region make them unique.
                "BucketName": {
                    "Fn::Sub": f"{prefix}-admin-site-${{AWS::AccountId}}-${{AWS::Region}}"
                },
                # SSE-S3: CloudFront's OAC reads it without a KMS key policy.
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        BUCKET_POLICY_ID: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": BUCKET_ID},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudFrontReadsThroughOac",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::Sub": f"${{{BUCKET_ID}.Arn}}/*"},
                            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                        },
                        {
                            "Sid": "DenyPlainHttp",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": [BUCKET_ID, "Arn"]},
                                {"Fn::Sub": f"${{{BUCKET_ID}.Arn}}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
            },
        },
        OAC_ID: {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": f"{prefix}-admin-site",  # unique per account: dev and prod differ
                    "Description": f"CloudFront reads {prefix}'s admin site bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        HEADERS_POLICY_ID: {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": f"{prefix}-admin-site",
                    "Comment": "Security headers of the admin site",
                    "SecurityHeadersConfig": security_headers(api_id),
                }
            },
        },
        DISTRIBUTION_ID: {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Comment": f"{prefix} admin site",
                    "Enabled": True,
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "Origins": [
                        {
                            "Id": ORIGIN_ID,
                            "DomainName": {"Fn::GetAtt": [BUCKET_ID, "RegionalDomainName"]},
                            "OriginAccessControlId": {"Fn::GetAtt": [OAC_ID, "Id"]},
                            # Empty identity: no legacy OAI, the OAC signs requests.
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": ORIGIN_ID,
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "Compress": True,
                        "AllowedMethods": ["GET", "HEAD"],
                        "CachedMethods": ["GET", "HEAD"],
                        "CachePolicyId": CACHING_OPTIMIZED_POLICY_ID,
                        "ResponseHeadersPolicyId": {"Ref": HEADERS_POLICY_ID},
                    },
                    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
                }
            },
        },
    }


def admin_site_outputs(stage: str) -> dict[str, Any]:
    """What ``infra.deploy_admin_site`` reads from the stack (besides EndpointURL)."""
    return {
        OUTPUT_BUCKET: {"Value": {"Ref": BUCKET_ID}},
        OUTPUT_DISTRIBUTION: {"Value": {"Ref": DISTRIBUTION_ID}},
        OUTPUT_URL: {"Value": {"Fn::Sub": f"https://${{{DISTRIBUTION_ID}.DomainName}}/"}},
        OUTPUT_STAGE: {"Value": stage},
    }
