"""Plain records: dataclasses of simple fields that convert to and from TOML tables.

A section's small records (a confirmation, a tag, a deploy) are dataclasses whose
fields are ``str``, ``int``, ``float``, ``bool``, lists of those, other plain
records, or ``X | None`` of any of these. ``to_state`` leaves out what is unset
(TOML has no null); ``from_state`` is strict: a value of the wrong type is a
``ValueError`` naming the field, so a hand-edited file is refused at load rather
than crashing a screen later.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from functools import cache
from typing import Any, TypeVar, Union

R = TypeVar("R")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def to_state(record: Any) -> dict[str, Any]:
    """The record as a table: unset (None, "", empty) fields left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = _dump(getattr(record, f.name))
        if value is None or value == "" or value == [] or value == {}:
            continue
        out[f.name] = value
    return out


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_state(value)
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _dump(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # StrEnum
    return value


def from_state(cls: type[R], data: Any) -> R:
    """Build ``cls`` from a table, checking every field's type."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} must be a table, not {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name not in data:
            continue
        kwargs[f.name] = _load(hints[f.name], data[f.name], f"{cls.__name__}.{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"{cls.__name__}: {exc}") from None


def _load(kind: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None:
            return None
        errors = []
        for option in options:
            try:
                return _load(option, value, where)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"{where}: unexpected value")
    if origin in (list, tuple):
        (item,) = typing.get_args(kind)[:1] or (Any,)
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list")
        items = [_load(item, v, f"{where}[]") for v in value]
        return items if origin is list else tuple(items)
    if origin is dict:
        _key, item = typing.get_args(kind)
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be a table")
        return {str(k): _load(item, v, f"{where}.{k}") for k, v in value.items()}
    if kind is Any:
        return value
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_state(kind, value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be a whole number")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where} must be a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be text")
        return value
    if isinstance(kind, type) and issubclass(kind, str):  # StrEnum
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not one of the known values") from None
    raise ValueError(f"{where}: cannot read a {kind!r}")
