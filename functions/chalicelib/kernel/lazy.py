"""A module imported on first use, for cold starts.

Importing ``app`` must register every route (Chalice needs them, and their schemas give
validation and the OpenAPI document) but a request needs only its own area's services.
Each service module pulls PynamoDB, botocore and its models (most of a cold start), so
the route modules bind their services with ``lazy_module`` instead of importing them:

    orders_service = lazy_module("chalicelib.orders.service")

Attribute access on the proxy imports the module the first time and then reads the real
module's attribute, so handler bodies read exactly as with a plain import. Setting or
deleting an attribute goes to the real module too (tests may monkeypatch through it).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` until an attribute is needed; see ``lazy_module``."""

    __slots__ = ("_lazy_module", "_lazy_name")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_module", None)

    def _load(self) -> ModuleType:
        module: ModuleType | None = self._lazy_module
        if module is None:
            # import_module takes the import lock, so concurrent first uses import once.
            module = importlib.import_module(self._lazy_name)
            object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._load(), attr, value)

    def __delattr__(self, attr: str) -> None:
        delattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "loaded" if self._lazy_name in sys.modules else "not loaded yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports on first attribute access.

    Typed ``Any`` so that call sites read like the module; a misspelt module name fails on
    first use, which the API tests exercise for every area."""
    return LazyModule(name)
