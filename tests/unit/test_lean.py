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
