"""Frozen dataclasses to JSON documents and back: fields of JSON types, datetimes (ISO-8601),
nested dataclasses, and tuples, lists and string-keyed dicts of any of them."""

from __future__ import annotations

import types
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


_fields: dict[Any, list[tuple[str, Any, bool]]] = {}


def _plan(cls: Any) -> list[tuple[str, Any, bool]]:
    """Each field's name, the type to decode it as (optional types unwrapped) and whether it has a
    default, once per class."""
    if cls not in _fields:
        hints = get_type_hints(cls)
        plan = []
        for field in fields(cls):
            hint = hints[field.name]
            if get_origin(hint) in (Union, types.UnionType):
                hint = next(arg for arg in get_args(hint) if arg is not type(None))
            plan.append(
                (field.name, hint, field.default is not MISSING or field.default_factory is not MISSING)
            )
        _fields[cls] = plan
    return _fields[cls]


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """The dataclass `cls` built from `data`, the inverse of `to_json`. A field missing from
    `data` takes its default (a document written before the field was added), else None."""
    return cls(
        **{
            name: _decode(hint, data.get(name))
            for name, hint, has_default in _plan(cls)
            if name in data or not has_default
        }
    )


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if hint is datetime:
        return datetime.fromisoformat(value)
    if is_dataclass(hint) and isinstance(hint, type):
        return from_json(hint, value)
    origin, args = get_origin(hint), get_args(hint)
    if origin in (tuple, list) and args:
        return origin(_decode(args[0], item) for item in value)
    if origin is dict and len(args) == 2:
        return {key: _decode(args[1], item) for key, item in value.items()}
    return value
