"""The versioned JSON Schema of the native result format, shipped in the package."""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_FILE = Path(__file__).parent / "schemas" / "result-v1.schema.json"


def generate_schema() -> dict:
    """Build the schema from the pydantic model (the shipped file must equal this)."""
    from bench_analytics.model import SCHEMA_ID, RunResult

    schema = RunResult.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "bench-analytics result, version 1",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def render_schema(schema: dict) -> str:
    """Stable text form (sorted keys, two-space indent)."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_text() -> str:
    """The shipped schema file's text."""
    return SCHEMA_FILE.read_text(encoding="utf-8")


if __name__ == "__main__":  # python -m bench_analytics.schema > ...: regenerate the file
    SCHEMA_FILE.write_text(render_schema(generate_schema()), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
