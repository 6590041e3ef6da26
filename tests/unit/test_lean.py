"""tasks.lean.dataclass answers as dataclasses.dataclass does: each class is made twice,
once by each, and every answer is compared."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from tasks.lean import dataclass as lean_dataclass


def both(**options: Any) -> Any:
    """The class body given, made by dataclasses and by tasks.lean."""

    def make(body: type) -> tuple[type, type]:
        made = []
        for decorator in (dataclasses.dataclass, lean_dataclass):
            namespace = {
                k: v for k, v in body.__dict__.items() if k not in ("__dict__", "__weakref__")
            }
            cls = type(body.__name__, body.__bases__, namespace)
            cls.__qualname__ = body.__qualname__
            made.append(decorator(**options)(cls) if options else decorator(cls))
        return made[0], made[1]

    return make


@both(frozen=True)
class Tag:
    name: str
    commit: str = ""
    note: str = dataclasses.field(default="", compare=False, repr=False)
    seen: int = dataclasses.field(default=0, hash=False)


@both()
class Node:
    host: str
    port: int = 22
    children: list[Any] = dataclasses.field(default_factory=list)


@pytest.mark.parametrize("pair", [Tag, Node], ids=["frozen", "mutable"])
def test_equality_and_hashing_are_dataclasses_own(pair: tuple[type, type]) -> None:
    for cls in pair:
        a, b, c = cls("x"), cls("x"), cls("y")
        assert a == b and a != c and not (a != b)
        assert (a == object()) is False and a != "x"
    std, lean = pair
    assert std("x") != lean("x")  # another class is never equal, as for dataclasses
    assert (std.__hash__ is None) == (lean.__hash__ is None)
    if std.__hash__ is not None:
        assert hash(std("x", "c", "n", 3)) == hash(std("x", "c", "other", 3))
        assert hash(lean("x", "c", "n", 3)) == hash(lean("x", "c", "other", 3))
        # compared but not hashed: unequal, same hash
        for cls in pair:
            assert cls("x", seen=1) != cls("x", seen=2)
            assert hash(cls("x", seen=1)) == hash(cls("x", seen=2))
        assert {lean("x"), lean("x"), lean("y")} == {lean("x"), lean("y")}
    else:
        with pytest.raises(TypeError):
            hash(lean("x"))


def test_fields_left_out_of_compare_are_ignored_as_dataclasses_do() -> None:
    std, lean = Tag
    for cls in (std, lean):
        assert cls("x", note="a") == cls("x", note="b")
        assert cls("x", seen=1) != cls("x", seen=2)


def test_repr_is_the_same_text_and_survives_a_cycle() -> None:
    std, lean = Tag
    assert repr(lean("v1.3.5", "abc", "hidden", 2)) == repr(std("v1.3.5", "abc", "hidden", 2))
    assert "hidden" not in repr(lean("v", note="hidden"))
    node_std, node_lean = Node
    loop_std, loop_lean = node_std("a"), node_lean("a")
    loop_std.children.append(loop_std)
    loop_lean.children.append(loop_lean)
    assert repr(loop_lean) == repr(loop_std) == "Node(host='a', port=22, children=[...])"


def test_frozen_is_frozen_and_the_dataclass_helpers_work() -> None:
    _std, lean = Tag
    tag = lean("v1", "abc")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.name = "v2"  # type: ignore[misc]
    assert dataclasses.is_dataclass(tag)
    assert dataclasses.replace(tag, name="v2") == lean("v2", "abc")
    assert dataclasses.asdict(tag) == {"name": "v1", "commit": "abc", "note": "", "seen": 0}
    assert [f.name for f in dataclasses.fields(lean)] == ["name", "commit", "note", "seen"]


def test_methods_written_in_the_class_are_kept() -> None:
    @lean_dataclass(frozen=True)
    class Version:
        text: str

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Version) and other.text.lower() == self.text.lower()

        def __hash__(self) -> int:
            return hash(self.text.lower())

        def __repr__(self) -> str:
            return f"v{self.text}"

    assert Version("A") == Version("a") and hash(Version("A")) == hash(Version("a"))
    assert repr(Version("1")) == "v1"


def test_a_subclass_compares_its_own_fields() -> None:
    @lean_dataclass(frozen=True)
    class Base:
        a: int

    @lean_dataclass(frozen=True)
    class Child(Base):
        b: int = 0

    assert Child(1, 2) != Child(1, 3) and Child(1, 2) == Child(1, 2)
    assert Base(1) != Child(1)
    assert repr(Child(1, 2)).endswith("Child(a=1, b=2)")


def test_slots_and_copies() -> None:
    made = lean_dataclass(slots=True)(type("Slotted", (), {"__annotations__": {"x": "int"}}))
    item = made(1)
    assert not hasattr(item, "__dict__") and item == made(1) and repr(item) == "Slotted(x=1)"
    _std, lean = Node
    node = lean("h", 2, [lean("child")])
    assert copy.deepcopy(node) == node and copy.deepcopy(node) is not node


@both(kw_only=False)
class Options:
    host: str
    port: int = 22
    tags: list[str] = dataclasses.field(default_factory=list)
    seen: int = dataclasses.field(default=0, init=False)
    made: list[str] = dataclasses.field(default_factory=lambda: ["x"], init=False)
    user: str = dataclasses.field(default="crvs", kw_only=True)
    key: str = dataclasses.field(kw_only=True, default_factory=str)


def test_init_takes_and_fills_what_dataclasses_does() -> None:
    std, lean = Options
    for call in (
        lambda cls: cls("h"),
        lambda cls: cls("h", 2, ["a"], user="u", key="k"),
        lambda cls: cls(host="h", tags=["b"]),
    ):
        a, b = call(std), call(lean)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert lean("h").tags is not lean("h").tags  # a new list each time
    for bad in (
        lambda cls: cls(),
        lambda cls: cls("h", 2, [], "u"),  # user is keyword-only
        lambda cls: cls("h", seen=1),  # not a parameter
        lambda cls: cls("h", nope=1),
    ):
        with pytest.raises(TypeError):
            bad(std)
        with pytest.raises(TypeError):
            bad(lean)


def test_init_is_compiled_once_on_the_first_instance_and_calls_post_init() -> None:
    calls: list[int] = []

    @lean_dataclass(frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            calls.append(self.value)
            if self.value < 0:
                raise ValueError("negative")

    lazy = Checked.__init__
    assert Checked(1).value == 1 and Checked.__init__ is not lazy
    compiled = Checked.__init__
    Checked(2)
    assert Checked.__init__ is compiled and calls == [1, 2]
    assert Checked.__init__.__qualname__.endswith("Checked.__init__")
    with pytest.raises(ValueError):
        Checked(-1)


def test_a_plain_subclass_and_a_dataclass_subclass_are_made_right() -> None:
    @lean_dataclass
    class Base:
        a: int
        b: int = 1

    class Plain(Base):
        pass

    @lean_dataclass
    class Child(Base):
        c: int = 2

    # The subclass's first instance compiles the base's __init__ for both.
    assert (Plain(5).a, Plain(5).b) == (5, 1)
    assert dataclasses.asdict(Child(0, c=3)) == {"a": 0, "b": 1, "c": 3}
    assert dataclasses.asdict(Base(7)) == {"a": 7, "b": 1}


def test_frozen_refuses_as_dataclasses_does_including_inside_a_subclass() -> None:
    @lean_dataclass(frozen=True)
    class Base:
        a: int

    class Plain(Base):
        pass

    item = Base(1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
        item.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'a'"):
        del item.a  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.other = 1  # type: ignore[attr-defined]
    loose = Plain(1)
    loose.other = 1  # type: ignore[attr-defined]  # as dataclasses: only the class itself
    with pytest.raises(dataclasses.FrozenInstanceError):
        loose.a = 2  # type: ignore[misc]


def test_classes_dataclasses_refuses_are_refused() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        lean_dataclass(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))
    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):
        lean_dataclass(frozen=True)(
            type("Bad", (), {"__annotations__": {"a": "int"}, "__setattr__": lambda *a: None})
        )
    with pytest.raises(ValueError, match="mutable default"):
        lean_dataclass(type("Bad", (), {"__annotations__": {"a": "list[int]"}, "a": []}))
    frozen = lean_dataclass(frozen=True)(type("Frozen", (), {"__annotations__": {"a": "int"}}))
    loose = lean_dataclass(type("Loose", (), {"__annotations__": {"a": "int"}}))
    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):
        lean_dataclass(type("Bad", (frozen,), {"__annotations__": {"b": "int"}}))
    with pytest.raises(TypeError, match="frozen dataclass from a non-frozen one"):
        lean_dataclass(frozen=True)(type("Bad", (loose,), {"__annotations__": {"b": "int"}}))
    std_frozen = dataclasses.dataclass(frozen=True)(
        type("F", (), {"__annotations__": {"a": "int"}})
    )
    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen one"):
        lean_dataclass(type("Bad", (std_frozen,), {"__annotations__": {"b": "int"}}))


def test_a_frozen_slotted_instance_copies_and_pickles() -> None:
    import pickle

    made = lean_dataclass(frozen=True, slots=True)(
        type("Pinned", (), {"__annotations__": {"x": "int", "y": "str"}, "__module__": __name__})
    )
    globals()["Pinned"] = made  # pickle finds the class by name
    item = made(1, "a")
    assert copy.deepcopy(item) == item and copy.copy(item) == item
    assert pickle.loads(pickle.dumps(item)) == item
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.x = 2


@both(kw_only=True)
class Flags:
    flag: bool = False
    names: list[str] = dataclasses.field(default_factory=list)


@both()
class Documented:
    """What it is."""

    value: int = 0


@pytest.mark.parametrize(
    "pair", [Tag, Node, Flags, Documented], ids=["frozen", "mutable", "kw_only", "documented"]
)
def test_the_docstring_is_the_one_dataclasses_writes(pair: tuple[type, type]) -> None:
    std, lean = pair
    assert lean.__doc__ == std.__doc__
    assert std.__doc__ != ""


def test_a_lazy_pattern_answers_as_the_compiled_one_and_compiles_once() -> None:
    import re

    from tasks.lean import regex

    lazy = regex(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE)
    assert lazy._compiled is None  # nothing compiled when the module defines it
    text = "Ab-1 cd-22 x"
    compiled = re.compile(r"(?P<word>[a-z]+)-(\d+)", re.IGNORECASE)
    for method in ("match", "fullmatch", "search"):
        ours, theirs = getattr(lazy, method)(text), getattr(compiled, method)(text)
        assert (ours and ours.groups()) == (theirs and theirs.groups())
    assert lazy.search(text, 3).groups() == compiled.search(text, 3).groups()
    assert lazy.findall(text) == compiled.findall(text) == [("Ab", "1"), ("cd", "22")]
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert lazy.sub(r"\g<word>", text) == compiled.sub(r"\g<word>", text) == "Ab cd x"
    assert lazy.subn("#", text, 1) == compiled.subn("#", text, 1)
    assert lazy.split(text) == compiled.split(text)
    first = lazy.compiled
    assert lazy.compiled is first and first.flags & re.IGNORECASE
