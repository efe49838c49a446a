"""Reading defers the cyclic garbage collector and gives it back as it was."""

from __future__ import annotations

import gc
import weakref

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.fixtures import simulate_run, synthetic_patients, write_results
from bench_analytics.formats import read_file
from bench_analytics.formats.collector import deferred_collection


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_collection_is_off_inside_and_back_on_after():
    assert gc.isenabled()
    with deferred_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with deferred_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_made_while_reading_are_still_collected():
    with deferred_collection():
        node = _Node()
        ref = weakref.ref(node)
        del node
    assert ref() is not None  # no collection ran inside
    gc.collect()
    assert ref() is None


def test_an_error_while_reading_restores_the_collector(tmp_path):
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BadInputError):
        read_file(tmp_path / "bad.json")
    assert gc.isenabled()
    (path,) = write_results([simulate_run("openai", synthetic_patients(5))], tmp_path / "ok")
    assert len(read_file(path)[0].cases) == 5
    assert gc.isenabled()
