"""Frozen dataclasses to JSON documents and back: fields of JSON types, datetimes (ISO-8601),
nested dataclasses, and tuples, lists and string-keyed dicts of any of them."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


def to_json(obj: Any) -> dict[str, Any]:
    """A JSON-ready dict of a dataclass instance (datetimes as ISO-8601)."""
    return {field.name: _encode(getattr(obj, field.name)) for field in fields(obj)}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


Decoder = Callable[[Any], Any]
_plans: dict[Any, list[tuple[str, Decoder | None, bool]]] = {}


def _plan(cls: Any) -> list[tuple[str, Decoder | None, bool]]:
    """Each field's name, how to decode its value (None: as it is; optional types unwrapped) and
    whether it has a default, worked out once per class."""
    if cls not in _plans:
        hints = get_type_hints(cls)
        plan = []
        for field in fields(cls):
            hint = hints[field.name]
            if get_origin(hint) in (Union, types.UnionType):
                hint = next(arg for arg in get_args(hint) if arg is not type(None))
            has_default = field.default is not MISSING or field.default_factory is not MISSING
            plan.append((field.name, _decoder(hint), has_default))
        _plans[cls] = plan
    return _plans[cls]


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """The dataclass `cls` built from `data`, the inverse of `to_json`. A field missing from
    `data` takes its default (a document written before the field was added), else None."""
    values: dict[str, Any] = {}
    for name, decode, has_default in _plan(cls):
        if name in data:
            value = data[name]
            values[name] = value if value is None or decode is None else decode(value)
        elif not has_default:
            values[name] = None
    return cls(**values)


def _decoder(hint: Any) -> Decoder | None:
    """The function that decodes a non-null JSON value into `hint` (None when it stays as it is)."""
    if hint is datetime:
        return datetime.fromisoformat
    if is_dataclass(hint) and isinstance(hint, type):
        return lambda value: from_json(hint, value)
    origin, args = get_origin(hint), get_args(hint)
    if origin in (tuple, list) and args:
        item = _decoder(args[0])
        if item is None:
            return origin  # type: ignore[no-any-return]
        return lambda value: origin(None if x is None else item(x) for x in value)
    if origin is dict and len(args) == 2:
        value_of = _decoder(args[1])
        if value_of is None:
            return dict
        return lambda value: {key: None if x is None else value_of(x) for key, x in value.items()}
    return None
