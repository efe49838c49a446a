"""Stable model keys: every display name of a model maps to one key."""

from __future__ import annotations

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.naming import calls_endpoint, load_alias_file, model_key_for, version_from_name


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Heuristic Baseline", "baseline"),
        ("baseline-v1.0", "baseline"),
        ("baseline", "baseline"),
        ("Google MedGemma-4B-IT", "medgemma"),
        ("medgemma-v1.0", "medgemma"),
        ("medgemma-v1.2", "medgemma"),
        ("OpenAI GPT-4", "openai"),
        ("Google Gemini 1.5 Pro", "gemini"),
        ("gemini-v1.0", "gemini"),
        ("Google Gemma-3-27B-IT", "gemma3"),
        ("medgemma-ensemble-v1.0", "medgemma-ensemble"),
        ("  My  New Model v2 ", "my-new-model-v2"),
        ("Claude 4.5 Sonnet-v3", "claude-4.5-sonnet"),
    ],
)
def test_keys(name, key):
    assert model_key_for(name) == key


def test_versions_from_names():
    assert version_from_name("baseline-v1.0") == "v1.0"
    assert version_from_name("Google MedGemma-4B-IT") is None


def test_team_aliases_win(tmp_path):
    path = tmp_path / "aliases.json"
    path.write_text('{"GPT-4o (prod)": "OpenAI"}')
    aliases = load_alias_file(path)
    assert model_key_for("gpt-4o (prod)", aliases) == "openai"
    path.write_text('["not", "a", "mapping"]')
    with pytest.raises(BadInputError, match="JSON object"):
        load_alias_file(path)
    path.write_text("{")
    with pytest.raises(BadInputError, match="cannot read model aliases"):
        load_alias_file(path)


def test_rule_based_models_call_no_endpoint():
    assert not calls_endpoint("baseline", None)
    assert calls_endpoint("medgemma", None)
    assert not calls_endpoint("my-rules", "heuristic")
    assert calls_endpoint("my-llm", "vllm")
