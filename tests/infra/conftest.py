"""The prod template, built once per session like CI builds it (``chalice package`` takes a
few seconds): the HTTP API variant, the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import template as tpl


@pytest.fixture(scope="session")
def prod_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tpl.build("prod", tmp_path_factory.mktemp("template"))
