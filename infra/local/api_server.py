"""Serve the Chalice app the way ``chalice local --no-autoreload`` does, with API Gateway's
gateway errors in our error contract.

Run by the local stack as ``python -m infra.local.api_server --host H --port P`` with the
stack's environment (DAOJIA_*, AWS_ENDPOINT_URL, fake credentials). It uses chalice's own
local server (``chalice.local``), so routes, the custom authorizer and CORS behave exactly
as under ``chalice local``. One thing differs on purpose: errors that API Gateway itself
generates (no Authorization header, unknown route, authorizer denial or failure) leave as
``{"error": {"code": <API Gateway responseType>, "message": ..., "details": null}}``, as the
deployed template's Gateway Responses produce, instead of chalice's bare
``{"message": ...}``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from chalice import local as chalice_local

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

# Local gateway exception -> (API Gateway responseType, default message).
# ForbiddenError is raised both for an unknown route (x-amzn-ErrorType
# UnauthorizedException / IncompleteSignatureException, as API Gateway sends for
# MISSING_AUTHENTICATION_TOKEN) and for an authorizer's deny (AccessDeniedException).
_ACCESS_DENIED_TYPES = {"AccessDeniedException"}


def gateway_error(error: chalice_local.LocalGatewayException) -> tuple[str, str]:
    """(responseType, message) that API Gateway would report for a local gateway error."""
    original = _original_message(error.body)
    error_type = str(error.headers.get("x-amzn-ErrorType", ""))
    if isinstance(error, chalice_local.NotAuthorizedError):
        return "UNAUTHORIZED", original or "Unauthorized"
    if isinstance(error, chalice_local.InvalidAuthorizerError):
        return "AUTHORIZER_CONFIGURATION_ERROR", original or "Authorizer configuration error"
    if isinstance(error, chalice_local.ForbiddenError):
        if error_type in _ACCESS_DENIED_TYPES:
            return "ACCESS_DENIED", original or "User is not authorized to access this resource"
        return "MISSING_AUTHENTICATION_TOKEN", original or "Missing Authentication Token"
    return "DEFAULT_4XX" if error.CODE < 500 else "DEFAULT_5XX", original or "Gateway error"


def _original_message(body: bytes | None) -> str | None:
    """The message chalice put in its body (``message`` or ``Message``), if any."""
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = data.get("message", data.get("Message"))
    return message if isinstance(message, str) and message else None


class ContractRequestHandler(chalice_local.ChaliceRequestHandler):
    """chalice's request handler, with gateway errors rewritten to the error contract.

    ``_send_error_response`` is the single place chalice turns every
    ``LocalGatewayException`` into an HTTP response, so it is the narrowest patch point.
    """

    def _send_error_response(self, error: chalice_local.LocalGatewayException) -> None:
        code, message = gateway_error(error)
        body = json.dumps({"error": {"code": code, "message": message, "details": None}}).encode()
        headers: dict[str, Any] = {
            k: v for k, v in error.headers.items() if k.lower() != "content-type"
        }
        headers["Content-Type"] = "application/json"
        # The template's Gateway Responses add this too, so a browser on another origin
        # (the admin site) can read a 401 and send the user to the sign-in page.
        headers["Access-Control-Allow-Origin"] = "*"
        self._send_http_response(error.CODE, headers, body)


def create_server(host: str, port: int, stage: str = "local") -> chalice_local.LocalDevServer:
    """The local server over the Chalice app, built as ``chalice local`` builds it."""
    if str(FUNCTIONS) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS))
    from app import app  # the Chalice app in functions/app.py
    from chalice.config import Config
    from chalice.deploy.validate import validate_routes

    validate_routes(app.routes)  # as `chalice local` does: fail on routes API GW refuses
    config = Config.create(
        chalice_stage=stage, app_name=app.app_name, project_dir=str(FUNCTIONS), chalice_app=app
    )
    server = chalice_local.create_local_server(app, config, host, port)
    server.server.RequestHandlerClass = functools.partial(
        ContractRequestHandler, app_object=app, config=config
    )
    return server


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    # `chalice local` logs to stdout at INFO, as Lambda would; the stack keeps it in a file.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server = create_server(args.host, args.port, args.stage)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
