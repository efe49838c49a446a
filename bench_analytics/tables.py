"""Typed rows and tables: every tabular result is a list of dataclass rows with ``to_frame()``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import pandas as pd


INTERNAL = {"internal": True}  # field metadata: kept out of as_dict() and frames


class Record:
    """Mixin for result dataclasses: ``as_dict()`` for JSON, plain values only."""

    def as_dict(self) -> dict[str, Any]:
        return {
            field.name: _plain(getattr(self, field.name))
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
            if not field.metadata.get("internal")
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.as_dict()
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return dict(value._asdict())
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


R = TypeVar("R", bound=Record)


class Table(list[R], Generic[R]):
    """Rows of one dataclass type; ``to_frame()`` gives a pandas DataFrame (columns even when
    empty), ``as_dicts()`` plain dicts for JSON."""

    def __init__(self, row_type: type[R], rows: Iterable[R] = ()) -> None:
        super().__init__(rows)
        self.row_type = row_type

    @property
    def columns(self) -> list[str]:
        return [
            field.name
            for field in dataclasses.fields(self.row_type)  # type: ignore[arg-type]
            if not field.metadata.get("internal")
        ]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.as_dicts(), columns=self.columns)
