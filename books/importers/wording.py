"""How importers word values in their messages: a JSON type's name, a shortened text, a counted noun."""
from __future__ import annotations


def type_name(value) -> str:
    """A JSON value's type in words: object, list, string, integer, number, boolean, null."""
    return {dict: "object", list: "list", str: "string", int: "integer", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def shortened(text: str) -> str:
    """``text`` for an error message: its first 40 characters, and "…" if there are more."""
    return text if len(text) <= 40 else text[:40] + "…"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural (``noun`` + "s" unless given) unless ``number`` is 1: "1 book",
    "2,000 books", "3 shelf entries"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def describe(value) -> str:
    """A value for an error message: its type, and the value itself if it is short and scalar."""
    if isinstance(value, str):
        return f"string {shortened(value)!r}" if value.strip() else "an empty string"
    if isinstance(value, bool | int | float):
        return f"{type_name(value)} {value!r}"
    return type_name(value)
