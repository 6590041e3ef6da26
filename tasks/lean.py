"""``dataclass``, as ``dataclasses.dataclass``, but cheaper to define at start-up.

Python 3.11 compiles every method a dataclass generates from source when the class is
defined: ``__init__``, ``__repr__`` and ``__eq__``, and for a frozen class ``__hash__``,
``__setattr__`` and ``__delattr__``, about a tenth of a millisecond each. crvs-migrate
defines well over a hundred dataclasses before its first screen (every section of the
session is parsed when it is opened), so that compilation was about a fifth of what
the app's start costs beyond Textual's own.

Here only what must be made per class is compiled (``__init__``, and a frozen class's
``__setattr__`` and ``__delattr__``). ``__repr__``, ``__eq__`` and ``__hash__`` are
shared functions that read the class's fields, and answer as the generated ones do:
the same text, equal only to an instance of the same class with equal compared fields,
hashable only when frozen (or when the class defines its own ``__hash__``). Everything
else is ``dataclasses`` itself: ``field``, ``fields``, ``replace``, ``asdict``.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")


# Per class: the names of its fields compared, hashed and shown, read on first use.
_NAMES: dict[type, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    found = _NAMES.get(cls)
    if found is None:
        fields = dataclasses.fields(cls)
        found = _NAMES[cls] = (
            tuple(f.name for f in fields if f.compare),
            tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)),
            tuple(f.name for f in fields if f.repr),
        )
    return found


def _eq(self: Any, other: object) -> bool:
    cls: type = type(self)
    if other.__class__ is not cls:
        return NotImplemented
    names = _names(cls)[0]
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in _names(type(self))[1]))


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _names(type(self))[2])
    return f"{self.__class__.__qualname__}({shown})"


def _finish(cls: type[T], *, repr: bool, eq: bool, frozen: bool) -> type[T]:
    own = cls.__dict__
    if repr and "__repr__" not in own:
        cls.__repr__ = _repr  # type: ignore[method-assign]
    if not eq:
        return cls
    # As dataclasses decides: a __hash__ written in the class is kept; otherwise a frozen
    # class hashes its compared fields and a mutable one is unhashable.
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if "__eq__" not in own:
        cls.__eq__ = _eq  # type: ignore[method-assign]
    if not explicit_hash:
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment,method-assign]
    return cls


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(
    *,
    repr: bool = True,
    eq: bool = True,
    frozen: bool = False,
    kw_only: bool = False,
    slots: bool = False,
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(
    cls: type[T] | None = None,
    /,
    *,
    repr: bool = True,
    eq: bool = True,
    frozen: bool = False,
    kw_only: bool = False,
    slots: bool = False,
) -> type[T] | Callable[[type[T]], type[T]]:
    """``dataclasses.dataclass`` with the parameters crvs-migrate uses."""

    def wrap(cls: type[T]) -> type[T]:
        made = dataclasses.dataclass(
            cls, repr=False, eq=False, frozen=frozen, kw_only=kw_only, slots=slots
        )
        return _finish(made, repr=repr, eq=eq, frozen=frozen)

    return wrap if cls is None else wrap(cls)
