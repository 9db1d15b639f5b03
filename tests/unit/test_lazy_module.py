"""chalicelib.kernel.lazy: a module bound by lazy_module is imported on first attribute access."""

import sys
import threading

import pytest
from chalicelib.kernel.lazy import LazyModule, lazy_module


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A throwaway package whose module records each time it is executed."""
    root = tmp_path / "lazy_probe"
    root.mkdir()
    (root / "__init__.py").write_text("executions = []\n")
    (root / "target.py").write_text(
        "import lazy_probe\n"
        "lazy_probe.executions.append(__name__)\n"
        "VALUE = 42\n"
        "def double(x):\n"
        "    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazy_probe.target"
    for name in ("lazy_probe.target", "lazy_probe"):
        sys.modules.pop(name, None)


def test_nothing_is_imported_until_an_attribute_is_read(package):
    proxy = lazy_module(package)
    assert package not in sys.modules
    assert "not loaded yet" in repr(proxy)

    assert proxy.VALUE == 42
    assert package in sys.modules
    assert proxy.double(4) == 8
    assert sys.modules["lazy_probe"].executions == [package]  # executed once
    assert "loaded" in repr(proxy)


def test_setting_an_attribute_reaches_the_real_module(package, monkeypatch):
    """Tests monkeypatch a service through the route module's name for it."""
    proxy = lazy_module(package)
    monkeypatch.setattr(proxy, "double", lambda x: -x)
    assert sys.modules[package].double(3) == -3 and proxy.double(3) == -3
    monkeypatch.undo()
    assert proxy.double(3) == 6


def test_a_missing_attribute_or_module_fails_on_use(package):
    with pytest.raises(AttributeError):
        _ = lazy_module(package).nope
    missing = lazy_module("lazy_probe.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        _ = missing.anything


def test_concurrent_first_uses_import_once(package):
    proxy = lazy_module(package)
    start = threading.Barrier(8)
    seen: list[int] = []

    def use() -> None:
        start.wait(timeout=30)
        seen.append(proxy.VALUE)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert seen == [42] * 8
    assert sys.modules["lazy_probe"].executions == [package]


def test_every_lazy_service_of_the_api_names_a_real_module():
    """A misspelt name would otherwise fail only on the first request to that area."""
    import importlib
    import pkgutil

    import chalicelib as package

    proxies = []
    for feature in pkgutil.iter_modules(package.__path__):
        if not feature.ispkg:
            continue
        for info in pkgutil.iter_modules([f"{package.__path__[0]}/{feature.name}"]):
            if info.name == "routes" or info.name.endswith("_routes"):
                module = importlib.import_module(f"chalicelib.{feature.name}.{info.name}")
                proxies += [v for v in vars(module).values() if isinstance(v, LazyModule)]
    assert len(proxies) >= 11  # one service per area at least
    for proxy in proxies:
        name = proxy._load().__name__
        assert name.startswith("chalicelib."), name
        assert not name.endswith(("routes", "schemas")), name  # a use-case module
