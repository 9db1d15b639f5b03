"""kernel/memo.py: a value loaded once per scope, every time outside one, again after
forget; scopes nest and stay in their context."""

from __future__ import annotations

import threading

import pytest
from chalicelib.kernel import memo


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_outside_a_scope_every_get_loads():
    load = Loader()
    assert [memo.get("k", load) for _ in range(3)] == [1, 2, 3]
    assert not memo.active()


def test_inside_a_scope_a_key_loads_once():
    load, other = Loader(), Loader()
    with memo.scope():
        assert memo.active()
        assert [memo.get("k", load) for _ in range(3)] == [1, 1, 1]
        assert memo.get("other", other) == 1
    assert (load.calls, other.calls) == (1, 1)


def test_a_new_scope_loads_again():
    load = Loader()
    with memo.scope():
        memo.get("k", load)
    assert not memo.active()
    with memo.scope():
        assert memo.get("k", load) == 2


def test_forget_makes_the_next_get_load():
    load = Loader()
    with memo.scope():
        assert memo.get("k", load) == 1
        memo.forget("k")
        assert memo.get("k", load) == 2
        assert memo.get("k", load) == 2
        memo.forget("never asked")  # nothing to forget: no error
    memo.forget("k")  # outside a scope: nothing to do


def test_a_nested_scope_is_the_outer_one():
    load = Loader()
    with memo.scope():
        memo.get("k", load)
        with memo.scope():
            assert memo.get("k", load) == 1
        assert memo.active()  # the inner block's end does not close the outer scope
        assert memo.get("k", load) == 1


def test_a_failed_load_is_not_kept():
    def failing() -> int:
        raise RuntimeError("no")

    load = Loader()
    with memo.scope():
        with pytest.raises(RuntimeError):
            memo.get("k", failing)
        assert memo.get("k", load) == 1


def test_the_scope_ends_when_its_block_raises():
    with pytest.raises(ValueError), memo.scope():
        raise ValueError
    assert not memo.active()


def test_another_thread_is_outside_the_scope():
    load = Loader()
    seen: list[bool] = []
    with memo.scope():
        memo.get("k", load)
        thread = threading.Thread(target=lambda: seen.append(memo.active()))
        thread.start()
        thread.join()
        assert memo.get("k", load) == 1
    assert seen == [False]
