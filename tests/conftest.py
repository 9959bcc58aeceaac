"""Shared fixtures: the bundled catalog, grammar and matcher; a guard against leaked threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Final

import pytest

from voicecoach.core.catalog import Catalog, load_catalog
from voicecoach.core.grammar import Grammar, load_grammar
from voicecoach.core.intents import CommandIndex, build_index


@pytest.fixture(scope="session")
def bundled_catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def bundled_grammar(bundled_catalog: Catalog) -> Grammar:
    return load_grammar(bundled_catalog)


@pytest.fixture(scope="session")
def bundled_index(bundled_grammar: Grammar) -> CommandIndex:
    return build_index(bundled_grammar)


@pytest.fixture(scope="session")
def grammar_sentences(bundled_grammar: Grammar) -> list[str]:
    return sorted({p.text for p in bundled_grammar.phrases()})


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test runs writes to the user's own data folder."""
    monkeypatch.setenv("VOICECOACH_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fails any test that leaves a thread running behind it."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leaked:
        thread.join(timeout=2.0)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"test left threads running: {still}"


UNIT_MODULES: Final = frozenset({
    "test_session", "test_intents", "test_grammar_syntax", "test_numbers",
    "test_catalog_content", "test_catalog_errors", "test_answers", "test_display",
    "test_automaton", "test_architecture", "test_audio", "test_progression", "test_verifier",
    "test_liveview", "test_train_verifier",
})  # fmt: skip
"""The fast layer (`make unit`, under 15 s): the core, and adapters tested in this process.
The rest (recognition on every recorded clip, whole scripted sessions, the command line in
subprocesses) runs in `make test`."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in UNIT_MODULES:
            item.add_marker(pytest.mark.unit)
