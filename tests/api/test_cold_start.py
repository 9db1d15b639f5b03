"""A cold start imports only what registering the routes needs (bench/cold_import.py).

Every route must be registered by ``import app`` (Chalice and the OpenAPI document need
them), but the services behind them, their PynamoDB models, botocore and PyJWT are
imported by the first request that uses them (chalicelib/kernel/lazy.py). A module-level
import of a service, a model or boto3 in a route module, the authorizer, a schema or
app.py brings the whole AWS stack back into every cold start; this test names it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported on first use, never by `import app` (prefixes of module names).
NOT_AT_IMPORT = (
    "boto3",
    "botocore",
    "pynamodb",
    "jwt",
    "cryptography",
    "chalicelib.db",
)
# Packages that are not features: the kernel, the HTTP kit, auth (the authorizer is
# registered by `import app`). The db kit is in NOT_AT_IMPORT.
KITS = ("kernel", "http", "auth")
# Registries features fill when their routes are imported, so that orders can call a
# feature above it (a group's seat at placing, a subscription's payment): plain Python
# with no AWS import, loaded at import on purpose.
REGISTRIES = (
    "chalicelib.orders.extensions",
    "chalicelib.orders.payables",
    "chalicelib.subscriptions.payable",
)


def feature_module_not_at_import(name: str) -> bool:
    """A feature's module other than its routes and schemas (its use cases, models,
    repository, rules): `import app` may load a feature's routes, and routes may load
    schemas; everything else waits for a request."""
    parts = name.split(".")
    if name in REGISTRIES:
        return False
    if len(parts) < 3 or parts[0] != "chalicelib" or parts[1] in (*KITS, "db"):
        return False
    module = parts[2]
    return not (module in ("routes", "schemas") or module.endswith(("_routes", "_schemas")))


PROBE = """
import json, sys
import app
from chalicelib.http.routing import ROUTES
print(json.dumps({
    "modules": sorted(sys.modules),
    "routes": sorted(f"{m} {p}" for p, methods in app.app.routes.items() for m in methods),
    "specs": len(ROUTES),
    "events": sorted(s.name for s in app.app.event_sources),
    "authorizers": sorted(a.name for a in app.app.builtin_auth_handlers),
    "functions": sorted(f.name for f in app.app.pure_lambda_functions),
}))
"""


def fresh_import(probe: str = PROBE) -> dict:
    """What `import app` leaves behind in a new interpreter (as on a Lambda cold start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_import_app_loads_no_aws_sdk_models_services_or_jwt():
    loaded = fresh_import()["modules"]
    eager = [m for m in loaded if m.startswith(NOT_AT_IMPORT) or feature_module_not_at_import(m)]
    assert eager == [], f"imported by `import app`, should wait for a request: {eager}"


def test_import_app_still_registers_every_route_and_handler():
    """Nothing registered moves behind the lazy imports: each documented operation, the
    background handlers and the authorizer exist right after `import app`."""
    state = fresh_import()
    doc = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    documented = sorted(
        f"{method.upper()} {path}"
        for path, ops in doc["paths"].items()
        for method in ops
        if method in {"get", "put", "post", "delete", "patch"}
    )
    assert state["routes"] == documented
    assert state["specs"] == len(documented)
    assert {"import_worker", "print_dispatch", "expire_unpaid"} <= set(state["events"])
    assert state["authorizers"] == ["token_authorizer"]


MACHINE_PROBE = """
import json, sys
import app
from chalicelib.http import function_url
print(json.dumps({"modules": sorted(sys.modules), "handler": callable(app.machine_api)}))
"""


def test_the_function_url_handler_imports_no_aws_sdk_or_services_either():
    """machine_api (the function URL's handler, decisions.md 33) is registered by `import
    app` and its event conversion loads nothing a request does not need."""
    assert fresh_import()["functions"] == ["machine_api"]
    state = fresh_import(MACHINE_PROBE)
    assert state["handler"] is True
    loaded = state["modules"]
    eager = [m for m in loaded if m.startswith(NOT_AT_IMPORT) or feature_module_not_at_import(m)]
    assert eager == [], f"imported with the function URL handler: {eager}"
