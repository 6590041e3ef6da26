"""``dataclass`` and ``regex``: as ``dataclasses.dataclass`` and ``re.compile``, but cheaper to
define at start-up.

Python 3.11 compiles every method a dataclass generates from source when the class is
defined: ``__init__``, ``__repr__`` and ``__eq__``, and for a frozen class ``__hash__``,
``__setattr__`` and ``__delattr__``, about a tenth of a millisecond each. crvs-migrate
defines well over a hundred dataclasses before its first screen (every section of the
session is parsed when it is opened), and most of them make no instance until the
operator reaches the work they describe.

So nothing is compiled when a class is defined. ``__init__`` is compiled the first time
the class makes an instance, from the same source ``dataclasses`` would write (the same
parameters, defaults, factories, ``__post_init__`` and frozen assignment). ``__repr__``,
``__eq__``, ``__hash__`` and a frozen class's ``__setattr__`` and ``__delattr__`` are
shared functions that read the class's fields, and answer as the generated ones do: the
same text, equal only to an instance of the same class with equal compared fields,
hashable only when frozen (or when the class defines its own ``__hash__``), the same
``FrozenInstanceError``. The checks ``dataclasses`` makes when the class is defined are
made here too. An undocumented class's docstring (``Name(a: 'int', b: 'str' = '')``) is
written from its fields: ``dataclasses`` would ask ``inspect.signature``, which parses and
compiles a signature's text, about a tenth of a millisecond per class. Everything else
is ``dataclasses`` itself: ``field``, ``fields``, ``replace``, ``asdict``. ``InitVar`` is
not supported (nothing here uses it).

``regex(pattern, flags)`` is ``re.compile`` when the pattern is first used: the modules
that load a session hold about seventy patterns, compiled on every start otherwise (about
7 ms before the first screen), and most check text the operator has not typed yet.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import reprlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_MISSING = dataclasses.MISSING


class _Factory:
    """The default of a parameter whose field has a default factory (shown as dataclasses
    shows it)."""

    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _Factory()

# The classes made here that are frozen: dataclasses is told they are not (so that it
# compiles no methods for them), and its checks on frozen bases are made here instead.
_FROZEN: set[type] = set()


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


def _init_source(cls: type, frozen: bool, slots: bool) -> tuple[str, dict[str, Any]]:
    """The ``__init__`` dataclasses writes for ``cls``, and the names it reads."""
    names: dict[str, Any] = {
        "__dataclass_factory__": _HAS_FACTORY,
        "__dataclass_setattr__": object.__setattr__,
    }
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        default = f"__dataclass_dflt_{f.name}__"
        if f.init:
            if f.default is not _MISSING:
                names[default] = f.default
                parameter = f"{f.name}={default}"
            elif f.default_factory is not _MISSING:
                parameter = f"{f.name}=__dataclass_factory__"
            else:
                parameter = f.name
            (keyword if f.kw_only else positional).append(parameter)
        if f.default_factory is not _MISSING:
            names[default] = f.default_factory
            value = (
                f"{default}() if {f.name} is __dataclass_factory__ else {f.name}"
                if f.init
                else f"{default}()"
            )
        elif f.init:
            value = f.name
        elif slots and f.default is not _MISSING:
            # A slot has no class attribute to fall back on.
            names[default] = f.default
            value = default
        else:
            continue
        if frozen:
            body.append(f"__dataclass_setattr__(__dataclass_self__, {f.name!r}, {value})")
        else:
            body.append(f"__dataclass_self__.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("__dataclass_self__.__post_init__()")
    parameters = ["__dataclass_self__", *positional]
    if keyword:
        parameters += ["*", *keyword]
    lines = "\n".join(f"    {line}" for line in body or ["pass"])
    return f"def __init__({', '.join(parameters)}):\n{lines}\n", names


def _signature_doc(cls: type) -> str:
    """``Name(a: int, b: str = 'x', *, c: list = <factory>)``, as dataclasses writes it."""
    positional: list[str] = []
    keyword: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        text = f"{f.name}: {inspect.formatannotation(f.type)}"
        if f.default is not _MISSING:
            text += f" = {f.default!r}"
        elif f.default_factory is not _MISSING:
            text += " = <factory>"
        (keyword if f.kw_only else positional).append(text)
    parameters = positional + (["*", *keyword] if keyword else [])
    return f"{cls.__name__}({', '.join(parameters)})"


def _lazy_init(cls: type, frozen: bool, slots: bool) -> Callable[..., None]:
    """An ``__init__`` that compiles the real one on the first instance, then hands over."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        source, names = _init_source(cls, frozen, slots)
        exec(source, names)  # noqa: S102 - written above from the class's own field names
        made = names["__init__"]
        made.__qualname__ = f"{cls.__qualname__}.__init__"
        made.__module__ = cls.__module__
        type.__setattr__(cls, "__init__", made)
        made(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _frozen_methods(cls: type, slots: bool) -> None:
    """``__setattr__`` and ``__delattr__`` as dataclasses writes them for a frozen class."""
    field_names = frozenset(f.name for f in dataclasses.fields(cls))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in field_names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in field_names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type]

    __setattr__.__qualname__ = f"{cls.__qualname__}.__setattr__"
    __delattr__.__qualname__ = f"{cls.__qualname__}.__delattr__"
    type.__setattr__(cls, "__setattr__", __setattr__)
    type.__setattr__(cls, "__delattr__", __delattr__)
    if slots:
        # Copies and pickles of a slotted instance set each slot; a frozen one refuses.
        type.__setattr__(cls, "__getstate__", _frozen_getstate)
        type.__setattr__(cls, "__setstate__", _frozen_setstate)


def _frozen_getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _frozen_setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=True):
        object.__setattr__(self, f.name, value)


def _check(cls: type, frozen: bool) -> None:
    """What dataclasses refuses when a class is defined, for what it was not asked to do."""
    own = cls.__dict__
    if frozen:
        for name in ("__setattr__", "__delattr__"):
            if name in own:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
    bases = [b for b in cls.__mro__[1:] if dataclasses.is_dataclass(b)]
    if bases:
        frozen_base = any(b in _FROZEN or b.__dataclass_params__.frozen for b in bases)  # type: ignore[attr-defined]
        if frozen_base and not frozen:
            raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
        if frozen and not frozen_base:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one")


def _check_fields(cls: type) -> None:
    fields = dataclasses.fields(cls)
    declared: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__")  # noqa: B009
    if len(fields) != len([f for f in declared.values() if "ClassVar" not in str(f.type)]):
        raise TypeError(f"{cls.__name__}: tasks.lean.dataclass does not support InitVar")
    seen_default = False
    for f in fields:
        if not f.init or f.kw_only:
            continue
        if f.default is not _MISSING or f.default_factory is not _MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


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
        _check(cls, frozen)
        # dataclasses writes an undocumented class's docstring from inspect.signature,
        # which parses a signature's text and compiles it: written here from the fields.
        undocumented = not cls.__doc__
        if undocumented:
            cls.__doc__ = cls.__name__
        made = dataclasses.dataclass(
            cls, init=False, repr=False, eq=False, frozen=False, kw_only=kw_only, slots=slots
        )
        _check_fields(made)
        if undocumented:
            made.__doc__ = _signature_doc(made)
        if "__init__" not in made.__dict__:
            type.__setattr__(made, "__init__", _lazy_init(made, frozen, slots))
        if frozen:
            _FROZEN.add(made)
            _frozen_methods(made, slots)
        return _finish(made, repr=repr, eq=eq, frozen=frozen)

    return wrap if cls is None else wrap(cls)


class LazyPattern:
    """A compiled pattern's methods, compiled on the first call (``regex``)."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def match(self, string: str, *span: int) -> re.Match[str] | None:
        return self.compiled.match(string, *span)

    def fullmatch(self, string: str, *span: int) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, *span)

    def search(self, string: str, *span: int) -> re.Match[str] | None:
        return self.compiled.search(string, *span)

    def findall(self, string: str, *span: int) -> list[Any]:
        return self.compiled.findall(string, *span)

    def finditer(self, string: str, *span: int) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, *span)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def subn(
        self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0
    ) -> tuple[str, int]:
        return self.compiled.subn(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str | Any]:
        return self.compiled.split(string, maxsplit)

    def __repr__(self) -> str:
        return f"regex({self.pattern!r}, {self.flags!r})"


def regex(pattern: str, flags: int = 0) -> LazyPattern:
    """``re.compile(pattern, flags)``, compiled when first used."""
    return LazyPattern(pattern, flags)
