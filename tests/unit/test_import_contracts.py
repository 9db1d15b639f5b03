"""The import contracts of pyproject.toml's [tool.importlinter] (issue 12 item 5) hold on the
tree, and each one fails when broken.

Each contract is proven by planting a forbidden import in a copy of the code and running
import-linter on the copy: a contract without a planted violation here fails
``test_every_contract_has_a_planted_violation``. Imports bound by ``lazy_module`` (route
modules, for cold starts) are strings that import-linter cannot see, so they get their
own check: each stays inside its feature.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "functions" / "chalicelib"
# lint-imports, run by this interpreter (the venv's script may not be on PATH)
LINT = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """lint-imports on the tree under root, with root's pyproject.toml (no cache files)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "functions"), str(root)])}
    args = [sys.executable, "-c", LINT, str(root / "pyproject.toml"), "--no-cache", "--no-logo"]
    args += [f"--contract={c}" for c in contracts]
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def contract_ids() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["id"] for c in config["tool"]["importlinter"]["contracts"]}


# (contract id, file under the repository root, line appended to it): each must break
# exactly that contract. Planted in a copy, never in the tree.
PLANTED = [
    ("pure-rules", "functions/chalicelib/checkout/pricing.py", "import boto3"),
    ("pure-rules", "functions/chalicelib/kernel/money.py", "from chalicelib.coupons import repo"),
    # indirectly: a rule that imports a use case reaches PynamoDB through it
    ("pure-rules", "functions/chalicelib/dashboard/rules.py", "import chalicelib.stores.service"),
    ("schemas", "functions/chalicelib/orders/schemas.py", "from chalicelib.orders import models"),
    ("schemas", "functions/chalicelib/printing/messages.py", "import pynamodb.attributes"),
    ("use-cases-no-http", "functions/chalicelib/orders/service.py", "from chalice import Response"),
    (
        "use-cases-no-http",
        "functions/chalicelib/printing/print_jobs.py",
        "from chalicelib.http.routing import respond",
    ),
    ("kernel", "functions/chalicelib/kernel/clock.py", "from chalicelib.orders import models"),
    ("kernel", "functions/chalicelib/kernel/states.py", "from chalicelib.db import writes"),
    ("relay-erp", "print_relay/tickets.py", "from chalicelib.kernel import money"),
    ("relay-erp", "erp_sync/importer.py", "import chalicelib.catalogue.rules"),
    # a lower feature imports a higher one
    ("features", "functions/chalicelib/stores/service.py", "from chalicelib.orders import service"),
    # two features of one layer are independent
    ("features", "functions/chalicelib/checkout/service.py", "import chalicelib.printing.relays"),
    # a kit imports a feature
    ("features", "functions/chalicelib/db/writes.py", "from chalicelib.stores import models"),
    # events/ (issue 12 item 2) is an optional layer: enforced once the folder exists
    (
        "features",
        "functions/chalicelib/events/__init__.py",
        "from chalicelib.orders import models",
    ),
    # a new feature folder must be given its place in the layers (exhaustive)
    ("features", "functions/chalicelib/unplaced_feature/__init__.py", '"""Nowhere."""'),
    ("payment-path", "functions/chalicelib/orders/payments.py", "import chalicelib.coupons.repo"),
]


def test_the_tree_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contract_ids())} kept, 0 broken." in result.stdout, result.stdout


def test_every_contract_has_a_planted_violation():
    assert contract_ids() == {contract for contract, _, _ in PLANTED}


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The code import-linter reads, and its configuration, copied under tmp_path."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("functions/chalicelib", "print_relay", "erp_sync"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("contract", "path", "line"), PLANTED)
def test_a_planted_violation_breaks_its_contract(tree_copy, contract, path, line):
    target = tree_copy / path
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")
    with target.open("a") as f:
        f.write(f"\n{line}\n")

    result = lint(tree_copy, contract)

    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "BROKEN" in out, out  # the contract broke (not a configuration error)
    planted = path.removeprefix("functions/").removesuffix(".py").removesuffix("/__init__")
    assert planted.replace("/", ".") in out, out  # and it names the planted module


# Imports that import-linter cannot see: lazy_module("chalicelib.<feature>.<module>").


def feature_of(module: str) -> str:
    """chalicelib.orders.routes -> orders."""
    return module.split(".")[1]


def lazy_imports(chalicelib: Path) -> list[tuple[str, str]]:
    """(importing module, module bound by lazy_module) for every call with a literal name."""
    found = []
    for path in sorted(chalicelib.rglob("*.py")):
        module = ".".join(path.relative_to(chalicelib.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "lazy_module"
            ):
                assert node.args and isinstance(node.args[0], ast.Constant), (
                    f"{module}: lazy_module needs a literal module name (checked here)"
                )
                found.append((module, node.args[0].value))
    return found


def lazy_imports_across_features(chalicelib: Path) -> list[tuple[str, str]]:
    return [(a, b) for a, b in lazy_imports(chalicelib) if feature_of(a) != feature_of(b)]


def test_lazy_imports_stay_inside_their_feature():
    found = lazy_imports(CHALICELIB)
    assert len(found) >= 10  # the route modules' services: the scan sees them
    assert lazy_imports_across_features(CHALICELIB) == []


def test_a_lazy_import_across_features_is_found(tree_copy):
    chalicelib = tree_copy / "functions" / "chalicelib"
    with (chalicelib / "stores" / "routes.py").open("a") as f:
        f.write('\norders = lazy_module("chalicelib.orders.service")\n')
    assert lazy_imports_across_features(chalicelib) == [
        ("chalicelib.stores.routes", "chalicelib.orders.service")
    ]
