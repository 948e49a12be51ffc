"""The machinery of the get/set/action variants: :class:`ServiceApdu`, the
:func:`variant` declaration, :func:`read_choice`, and the bodies several
variants share (a block-number alone, a DataBlock-SA alone).

Every variant is ``tag | choice | invoke-id-and-priority | body``; the tag,
choice and invoke-id-and-priority are handled here once, and the fields of
each variant are checked against their annotations.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Callable, ClassVar, TypeVar, Union

from .._enum import BlueBookEnum
from .._tags import APDU_NAME
from .._util import as_bytes
from ..errors import DecodeError, UsageError
from .cursor import Reader, Writer, decoded, open_apdu
from .invoke import (
    _INVOKE_ID_AND_PRIORITY,
    DEFAULT_INVOKE_ID_AND_PRIORITY,
    InvokeIdAndPriority,
)

_Buffer = Union[bytes, bytearray, memoryview]

if TYPE_CHECKING:
    # the type checker then sees each variant as the keyword-only frozen dataclass
    # it becomes (typing has it from Python 3.11; only the checker needs it)
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_options):
        return lambda decorator: decorator

_V = TypeVar("_V")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceApdu:
    """What every get/set/action variant shares: tag, choice and invoke-id-and-priority
    octets, then the body.

    A variant is declared with :func:`variant` and defines three hooks for its
    body: ``_read(reader, invoke_id_and_priority)``, ``_write(writer)`` and
    ``_body_meaning()``.
    """

    TAG: ClassVar[int]
    CHOICE: ClassVar[int]
    APDU: ClassVar[str]
    CHOICE_NAME: ClassVar[str]
    _FIELD_RULES: ClassVar[tuple]

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_INVOKE_ID_AND_PRIORITY

    def __post_init__(self) -> None:
        # Each field is checked against its annotation (rules made once per class
        # by variant()), so a wrong argument is a UsageError here rather than an
        # AttributeError deep inside to_bytes().
        for name, many, accepted, coerce in self._FIELD_RULES:
            value = getattr(self, name)
            if many:
                if not isinstance(value, (tuple, list)):
                    raise UsageError(
                        f"{self.CHOICE_NAME}: {name} must be a sequence, got {type(value).__name__}"
                    )
                object.__setattr__(
                    self, name, tuple(self._checked(name, item, accepted, coerce) for item in value)
                )
            elif not isinstance(value, accepted):
                object.__setattr__(self, name, self._checked(name, value, accepted, coerce))

    def _checked(self, name: str, value: Any, accepted: tuple[type, ...], coerce: type | None) -> Any:
        if isinstance(value, accepted):
            return value
        if coerce is not None and type(value) is int:
            try:
                return coerce(value)
            except ValueError:
                raise UsageError(f"{self.CHOICE_NAME}: {value} is not a {coerce.__name__}") from None
        expected = " or ".join("None" if t is type(None) else t.__name__ for t in accepted)
        raise UsageError(f"{self.CHOICE_NAME}: {name} must be {expected}, got {type(value).__name__}")

    @classmethod
    def from_bytes(cls, data: _Buffer):
        """Decode one whole APDU of this variant; trailing octets are an error."""
        reader = open_apdu(data, cls.TAG, cls.APDU)
        choice = reader.u8(f"{cls.APDU} choice")
        if choice != cls.CHOICE:
            raise DecodeError(
                f"not a {cls.CHOICE_NAME}: choice {choice}, expected {cls.CHOICE}", 1
            )
        return cls._read_whole(reader)

    @classmethod
    def _read_whole(cls, reader: "Reader"):
        iip = InvokeIdAndPriority.from_byte(reader.u8("invoke-id-and-priority"))
        apdu = cls._read(reader, iip)
        reader.finish(cls.CHOICE_NAME)
        return apdu

    def to_bytes(self) -> bytes:
        # invoke_id_and_priority was checked by __post_init__ (or decoded).
        writer = Writer(self.TAG, self.CHOICE, self.invoke_id_and_priority.value)
        self._write(writer)
        return writer.bytes()

    def to_meaning(self) -> dict[str, Any]:
        """The meaning in the schema of shared/vectors (xdlms.json)."""
        return {
            "apdu": self.APDU,
            "choice": self.CHOICE_NAME,
            "invoke_id_and_priority": self.invoke_id_and_priority.to_meaning(),
            **self._body_meaning(),
        }


class BlockNumberBody:
    """Body of the variants that carry only a block-number (Unsigned32): the
    acknowledgements and next-block requests of block transfer."""

    __slots__ = ()

    @classmethod
    def _read(cls, r: "Reader", iip: InvokeIdAndPriority):
        return decoded(cls, invoke_id_and_priority=iip, block_number=r.u32("block-number"))

    def _write(self, w: "Writer") -> None:
        w.u32(self.block_number, "block-number")

    def _body_meaning(self) -> dict[str, Any]:
        return {"block_number": self.block_number}


class DataBlockSABody:
    """Body of the variants that carry only a DataBlock-SA, in the field named
    by ``BLOCK_FIELD`` (``datablock`` for SET, ``pblock`` for ACTION)."""

    __slots__ = ()
    BLOCK_FIELD: ClassVar[str]

    @classmethod
    def _read(cls, r: "Reader", iip: InvokeIdAndPriority):
        return decoded(cls, **{"invoke_id_and_priority": iip, cls.BLOCK_FIELD: r.datablock_sa()})

    def _write(self, w: "Writer") -> None:
        w.datablock_sa(getattr(self, self.BLOCK_FIELD))

    def _body_meaning(self) -> dict[str, Any]:
        return {self.BLOCK_FIELD: getattr(self, self.BLOCK_FIELD).to_meaning()}


def _accepted(hint: Any) -> tuple[type, ...]:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _accepted(arg))
    return (hint,)


def _field_rules(cls: type) -> tuple[tuple[str, bool, tuple[type, ...], type | None], ...]:
    """(field, is a sequence, accepted classes, enum to turn a plain int into)."""
    hints = typing.get_type_hints(cls)
    rules = []
    for f in fields(cls):
        hint = hints[f.name]
        many = typing.get_origin(hint) is tuple
        accepted = _accepted(typing.get_args(hint)[0] if many else hint)
        enums = [t for t in accepted if isinstance(t, type) and issubclass(t, BlueBookEnum)]
        coerce = enums[0] if len(accepted) == 1 and enums else None
        rules.append((f.name, many, accepted, coerce))
    return tuple(rules)


@dataclass_transform(frozen_default=True, kw_only_default=True)
def variant(tag: int, choice: int, choice_name: str) -> Callable[[type[_V]], type[_V]]:
    """Declare a get/set/action variant: its tag, its choice octet and the
    standard's name for it; the class becomes a frozen, slotted, keyword-only
    dataclass whose fields follow ``invoke_id_and_priority``."""

    def declare(cls):
        cls.TAG = tag
        cls.CHOICE = choice
        cls.APDU = APDU_NAME[tag]
        cls.CHOICE_NAME = choice_name
        declared = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        declared._FIELD_RULES = _field_rules(declared)
        return declared

    return declare


def read_choice(data: _Buffer, apdu: str, variants: dict[int, type]):
    """Decode a tag + choice APDU whose choice selects one of ``variants``."""
    buf = as_bytes(data)
    reader = Reader(buf, 1)
    choice = reader.u8(f"{apdu} choice")
    cls = variants.get(choice)
    if cls is None:
        raise DecodeError(f"unknown {apdu} choice {choice}", 1)
    if len(buf) < 3:
        raise reader._truncated(1, "invoke-id-and-priority")
    reader.pos = 3
    result = cls._read(reader, _INVOKE_ID_AND_PRIORITY[buf[2]])
    reader.finish(cls.CHOICE_NAME)
    return result
