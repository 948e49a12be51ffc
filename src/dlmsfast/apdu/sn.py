"""Short-name referencing APDUs (IEC 62056-5-3, Association SN): ReadRequest,
ReadResponse, WriteRequest, WriteResponse, UnconfirmedWriteRequest and
InformationReportRequest, in the style of :mod:`dlmsfast.apdu` (frozen objects,
``from_bytes`` over the whole APDU, ``to_bytes``, ``to_meaning``). They live
here, in the APDU layer, so that :func:`dlmsfast.apdu.parse_apdu` (and so
``dlmsfast decode``) reads them; :mod:`dlmsfast.session.sn` re-exports them.

::

    05  n { variable-access-specification }                       ReadRequest
    0C  n { 00 Data | 01 data-access-error | 02 data-block-result }   ReadResponse
    06  n { variable-access-specification }  n { Data }           WriteRequest
    0D  n { 00 (success) | 01 data-access-error }                 WriteResponse
    16  n { variable-access-specification }  n { Data }           UnconfirmedWriteRequest
    18  current-time  n { variable-access-specification }  n { Data }
                                                                  InformationReportRequest

    current-time (GeneralizedTime OPTIONAL): 00 when absent; else, as meters
      send it (and Gurux reads it), a length octet and that many octets (a
      12-octet COSEM date-time), kept as octets here

    variable-access-specification:
      02  variable-name (ObjectName, 2 octets)
      04  variable-name (2)  selector (Unsigned8)  parameter (Data)   parameterized-access
      05  block-number (Unsigned16)                                   block-number-access

    data-block-result: last-block (BOOLEAN) block-number (Unsigned16) raw-data (OCTET STRING)

A long read answer comes as ReadResponses each holding one data-block-result,
numbered from 1; the client asks for the next with a ReadRequest holding one
block-number-access (the number of the block received). The raw data of the
blocks, joined, is the A-XDR value read (one variable; as Gurux does).
``n`` is an A-XDR length. Base names are unsigned 16-bit here (the standard's
Integer16 read as its two octets).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .._tags import (
    INFORMATION_REPORT_REQUEST,
    PLAIN_APDUS,
    READ_REQUEST,
    READ_RESPONSE,
    UNCONFIRMED_WRITE_REQUEST,
    WRITE_REQUEST,
    WRITE_RESPONSE,
)
from .._util import _check_range, as_bytes, require, shown
from ..axdr import Data, decode_length_from, decode_typed_from, encode, encode_length
from ..errors import DecodeError, DlmsError, EncodeError, UsageError
from .notification import _date_time_meaning
from .results import DataAccessResult

_VARIABLE_NAME = 2
_PARAMETERIZED_ACCESS = 4
_BLOCK_NUMBER_ACCESS = 5
_DATA_BLOCK_RESULT = 2


@dataclass(frozen=True, slots=True)
class DataBlockResult:
    """One block of a long short-name read answer."""

    last_block: bool
    block_number: int
    raw_data: bytes

    def to_meaning(self) -> dict[str, Any]:
        return {"last_block": self.last_block, "block_number": self.block_number,
                "raw_data": self.raw_data.hex().upper()}


class _Cursor:
    __slots__ = ("buf", "pos", "what")

    def __init__(self, data, tag: int, what: str) -> None:
        self.buf = as_bytes(data)
        self.what = what
        if not self.buf or self.buf[0] != tag:
            got = f"0x{self.buf[0]:02X}" if self.buf else "nothing"
            raise DecodeError(f"not a {what}: tag {got}, expected 0x{tag:02X}", 0)
        self.pos = 1

    def u8(self, what: str) -> int:
        if self.pos >= len(self.buf):
            raise DecodeError(f"truncated {self.what}: {what} missing", self.pos)
        self.pos += 1
        return self.buf[self.pos - 1]

    def u16(self, what: str) -> int:
        if self.pos + 2 > len(self.buf):
            raise DecodeError(f"truncated {self.what}: {what} missing", self.pos)
        self.pos += 2
        return int.from_bytes(self.buf[self.pos - 2:self.pos], "big")

    def count(self, what: str) -> int:
        start = self.pos
        if start >= len(self.buf):
            raise DecodeError(f"truncated {self.what}: {what} count missing", start)
        n, self.pos = decode_length_from(self.buf, start)
        # every element takes at least one octet
        if n > len(self.buf) - self.pos:
            raise DecodeError(f"{what}: {n} elements cannot fit the "
                              f"{len(self.buf) - self.pos} octets left", start)
        return n

    def data(self, what: str) -> Data:
        if self.pos >= len(self.buf):
            raise DecodeError(f"truncated {self.what}: {what} missing", self.pos)
        value, self.pos = decode_typed_from(self.buf, self.pos)
        return value

    def result(self) -> DataAccessResult:
        return DataAccessResult.read(self.u8("data-access-error"), self.pos - 1,
                                     "data-access-error")

    def finish(self) -> None:
        if self.pos != len(self.buf):
            raise DecodeError(f"{len(self.buf) - self.pos} trailing octet(s) after the "
                              f"{self.what}", self.pos)


def _names(cursor: _Cursor) -> tuple[tuple[int, ...], tuple]:
    names: list[int] = []
    parameters: list[tuple[int, Data] | None] = []
    count = cursor.count("variable-access-specification")
    if not count:
        raise DecodeError(f"{cursor.what} names no variable", cursor.pos - 1)
    for _ in range(count):
        choice = cursor.u8("variable-access-specification choice")
        if choice == _VARIABLE_NAME:
            names.append(cursor.u16("variable-name"))
            parameters.append(None)
        elif choice == _PARAMETERIZED_ACCESS:
            names.append(cursor.u16("variable-name"))
            selector = cursor.u8("selector")
            parameters.append((selector, cursor.data("parameter")))
        else:
            raise DecodeError(f"unsupported variable-access-specification choice {choice}",
                              cursor.pos - 1)
    return tuple(names), tuple(parameters)


def _write_names(out: bytearray, names, parameters) -> None:
    out += encode_length(len(names))
    for name, parameter in zip(names, parameters):
        if not isinstance(name, int) or not 0 <= name <= 0xFFFF:
            raise EncodeError(f"a base name is 0..0xFFFF, got {shown(name)}")
        if parameter is None:
            out.append(_VARIABLE_NAME)
            out += name.to_bytes(2, "big")
        else:
            selector, value = parameter
            out.append(_PARAMETERIZED_ACCESS)
            out += name.to_bytes(2, "big")
            out.append(selector)
            out += encode(value)


def _check_names(names, parameters) -> tuple[tuple[int, ...], tuple]:
    require(names, (list, tuple), "base_names")
    require(parameters, (list, tuple, type(None)), "parameters")
    names = tuple(names)
    parameters = (None,) * len(names) if parameters is None else tuple(parameters)
    for name in names:
        _check_range("base name", name, 0, 0xFFFF)
    for parameter in parameters:
        if parameter is not None and not (
                isinstance(parameter, tuple) and len(parameter) == 2
                and isinstance(parameter[1], Data)):
            raise UsageError("a parameter is None or (selector, Data)")
        if parameter is not None:
            _check_range("selector", parameter[0], 0, 0xFF)
    if not names or len(parameters) != len(names):
        raise UsageError("one parameter (or None) per base name, at least one name")
    return names, parameters


def _head(apdu: Any) -> dict[str, Any]:
    return {"apdu": PLAIN_APDUS[apdu.TAG], "tag": f"{apdu.TAG:02X}"}


def _names_meaning(names, parameters) -> list[dict[str, Any]]:
    """variable-access-specification: a base name is shown as its 4 hex digits,
    as SN object lists and meter manuals write it (0xFA00)."""
    out: list[dict[str, Any]] = []
    for name, parameter in zip(names, parameters):
        if parameter is None:
            out.append({"variable_name": f"{name:04X}"})
        else:
            out.append({"parameterized_access": {"variable_name": f"{name:04X}",
                                                 "selector": parameter[0],
                                                 "parameter": parameter[1].to_meaning()}})
    return out


def _read_result_meaning(result: Any) -> dict[str, Any]:
    if isinstance(result, Data):
        return {"data": result.to_meaning()}
    if isinstance(result, DataBlockResult):
        return {"data_block_result": result.to_meaning()}
    return {"data_access_error": result.to_meaning()}


def _read_block(cursor: _Cursor) -> DataBlockResult:
    last = cursor.u8("last-block") != 0
    number = cursor.u16("block-number")
    start = cursor.pos
    if start >= len(cursor.buf):
        raise DecodeError("truncated data-block-result: raw-data missing", start)
    length, cursor.pos = decode_length_from(cursor.buf, start)
    if cursor.pos + length > len(cursor.buf):
        raise DecodeError(f"raw-data of {length} octets, {len(cursor.buf) - cursor.pos} left",
                          start)
    cursor.pos += length
    return DataBlockResult(last, number, cursor.buf[cursor.pos - length:cursor.pos])


def _read_result_octets(result) -> tuple[int, bytes] | None:
    if isinstance(result, Data):
        return 0, encode(result)
    if isinstance(result, DataBlockResult):
        return _DATA_BLOCK_RESULT, (bytes((1 if result.last_block else 0,))
                                    + result.block_number.to_bytes(2, "big")
                                    + encode_length(len(result.raw_data)) + result.raw_data)
    return None


def _read_results(cursor: _Cursor, success, block=None) -> tuple:
    """SEQUENCE OF CHOICE { [0] success (read by ``success``), [1] data-access-error,
    [2] data-block-result (read by ``block``, ReadResponse only) }."""
    results = []
    for _ in range(cursor.count("results")):
        choice = cursor.u8("result choice")
        if choice == 0:
            results.append(success(cursor))
        elif choice == 1:
            results.append(cursor.result())
        elif choice == _DATA_BLOCK_RESULT and block is not None:
            results.append(block(cursor))
        else:
            raise DecodeError(f"unsupported {cursor.what} choice {choice}", cursor.pos - 1)
    cursor.finish()
    return tuple(results)


def _write_results(tag: int, results, octets_of) -> bytes:
    """``octets_of(result)`` gives (choice, octets after it), or None for an error."""
    out = bytearray((tag,))
    out += encode_length(len(results))
    for result in results:
        written = octets_of(result)
        if written is None:
            out.append(1)
            out.append(DataAccessResult.given(result, "data-access-error"))
        else:
            out.append(written[0])
            out += written[1]
    return bytes(out)


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """Variables to read (with the parameter of a parameterized access, or None
    each); or, with ``block_number`` set and no names, the request for the block
    after ``block_number`` of a long answer (block-number-access)."""

    TAG: ClassVar[int] = READ_REQUEST
    base_names: tuple[int, ...]
    parameters: tuple | None = None
    block_number: int | None = None

    def __post_init__(self) -> None:
        if self.block_number is not None:
            _check_range("block_number", self.block_number, 0, 0xFFFF)
            if self.base_names:
                raise UsageError("block-number-access names no variable")
            object.__setattr__(self, "base_names", ())
            object.__setattr__(self, "parameters", ())
            return
        names, parameters = _check_names(self.base_names, self.parameters)
        object.__setattr__(self, "base_names", names)
        object.__setattr__(self, "parameters", parameters)

    @classmethod
    def from_bytes(cls, data) -> "ReadRequest":
        cursor = _Cursor(data, cls.TAG, "ReadRequest")
        if cursor.buf[1:3] == bytes((1, _BLOCK_NUMBER_ACCESS)):
            cursor.pos = 3
            number = cursor.u16("block-number")
            cursor.finish()
            return cls((), None, number)
        names, parameters = _names(cursor)
        cursor.finish()
        return cls(names, parameters)

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        if self.block_number is not None:
            out += bytes((1, _BLOCK_NUMBER_ACCESS)) + self.block_number.to_bytes(2, "big")
            return bytes(out)
        _write_names(out, self.base_names, self.parameters)
        return bytes(out)

    def to_meaning(self) -> dict[str, Any]:
        if self.block_number is not None:
            access = [{"block_number_access": {"block_number": self.block_number}}]
        else:
            access = _names_meaning(self.base_names, self.parameters)
        return {**_head(self), "variable_access_specification": access}


@dataclass(frozen=True, slots=True)
class ReadResponse:
    """``results``: a Data or a DataAccessResult per name asked, or one
    DataBlockResult (a block of a long answer)."""

    TAG: ClassVar[int] = READ_RESPONSE
    results: tuple

    @classmethod
    def from_bytes(cls, data) -> "ReadResponse":
        return cls(_read_results(_Cursor(data, cls.TAG, "ReadResponse"),
                                 lambda cursor: cursor.data("data"), _read_block))

    def to_bytes(self) -> bytes:
        return _write_results(self.TAG, self.results, _read_result_octets)

    def to_meaning(self) -> dict[str, Any]:
        return {**_head(self), "results": [_read_result_meaning(r) for r in self.results]}


@dataclass(frozen=True, slots=True)
class WriteRequest:
    TAG: ClassVar[int] = WRITE_REQUEST
    NAME: ClassVar[str] = "WriteRequest"
    base_names: tuple[int, ...]
    values: tuple[Data, ...]

    def __post_init__(self) -> None:
        _check_names_and_values(self)

    @classmethod
    def from_bytes(cls, data) -> "WriteRequest":
        cursor = _Cursor(data, cls.TAG, cls.NAME)
        names, values = _names_and_values(cursor)
        cursor.finish()
        return cls(names, values)

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        _write_names_and_values(out, self.base_names, self.values)
        return bytes(out)

    def to_meaning(self) -> dict[str, Any]:
        return {**_head(self), **_names_and_values_meaning(self.base_names, self.values)}


@dataclass(frozen=True, slots=True)
class UnconfirmedWriteRequest(WriteRequest):
    """A WriteRequest the server does not answer (the same layout, tag 0x16)."""

    TAG: ClassVar[int] = UNCONFIRMED_WRITE_REQUEST
    NAME: ClassVar[str] = "UnconfirmedWriteRequest"


@dataclass(frozen=True, slots=True)
class InformationReportRequest:
    """What a short-name server reports unasked: the values of named variables,
    with the optional current time (``current_time``: its octets, or None)."""

    TAG: ClassVar[int] = INFORMATION_REPORT_REQUEST
    NAME: ClassVar[str] = "InformationReportRequest"
    base_names: tuple[int, ...]
    values: tuple[Data, ...]
    current_time: bytes | None = None

    def __post_init__(self) -> None:
        _check_names_and_values(self)
        if self.current_time is not None:
            require(self.current_time, bytes, "current_time")
            if not 0 < len(self.current_time) <= 0xFF:
                raise UsageError("current_time is 1..255 octets (a date-time: 12)")

    @classmethod
    def from_bytes(cls, data) -> "InformationReportRequest":
        cursor = _Cursor(data, cls.TAG, cls.NAME)
        length = cursor.u8("current-time")
        if cursor.pos + length > len(cursor.buf):
            raise DecodeError(f"current-time of {length} octets, "
                              f"{len(cursor.buf) - cursor.pos} left", cursor.pos - 1)
        current_time = cursor.buf[cursor.pos:cursor.pos + length] if length else None
        cursor.pos += length
        names, values = _names_and_values(cursor)
        cursor.finish()
        return cls(names, values, current_time)

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        if self.current_time is None:
            out.append(0)
        else:
            out.append(len(self.current_time))
            out += self.current_time
        _write_names_and_values(out, self.base_names, self.values)
        return bytes(out)

    def to_meaning(self) -> dict[str, Any]:
        time = None
        if self.current_time is not None:
            try:
                time = _date_time_meaning(self.current_time)
            except DlmsError:  # not a valid date-time: the octets as sent
                time = {"length": len(self.current_time),
                        "hex": self.current_time.hex().upper()}
        return {**_head(self), "current_time": time,
                **_names_and_values_meaning(self.base_names, self.values)}


def _check_names_and_values(apdu: Any) -> None:
    """A write's (or report's) names and values as given: one Data per name."""
    names, _ = _check_names(apdu.base_names, None)
    require(apdu.values, (list, tuple), "values")
    values = tuple(apdu.values)
    if len(values) != len(names) or not all(isinstance(v, Data) for v in values):
        raise UsageError(f"{apdu.NAME} needs one Data value per base name")
    object.__setattr__(apdu, "base_names", names)
    object.__setattr__(apdu, "values", values)


def _names_and_values(cursor: _Cursor) -> tuple[tuple[int, ...], tuple[Data, ...]]:
    """variable-access-specification then list-of-data, one value per name."""
    names, parameters = _names(cursor)
    if any(p is not None for p in parameters):
        raise DecodeError(f"parameterized access in a {cursor.what} is not supported", 1)
    values = tuple(cursor.data("value") for _ in range(cursor.count("values")))
    if len(values) != len(names):
        raise DecodeError(f"{cursor.what} with {len(names)} names and {len(values)} values",
                          cursor.pos)
    return names, values


def _write_names_and_values(out: bytearray, names, values) -> None:
    _write_names(out, names, (None,) * len(names))
    out += encode_length(len(values))
    for value in values:
        out += encode(value)


def _names_and_values_meaning(names, values) -> dict[str, Any]:
    return {"variable_access_specification": _names_meaning(names, (None,) * len(names)),
            "list_of_data": [value.to_meaning() for value in values]}


@dataclass(frozen=True, slots=True)
class WriteResponse:
    """``results``: a DataAccessResult per name (SUCCESS where it was written)."""

    TAG: ClassVar[int] = WRITE_RESPONSE
    results: tuple[DataAccessResult, ...]

    @classmethod
    def from_bytes(cls, data) -> "WriteResponse":
        return cls(_read_results(_Cursor(data, cls.TAG, "WriteResponse"),
                                 lambda cursor: DataAccessResult.SUCCESS))

    def to_bytes(self) -> bytes:
        return _write_results(self.TAG, self.results, lambda result: (
            (0, b"") if result == DataAccessResult.SUCCESS else None))

    def to_meaning(self) -> dict[str, Any]:
        return {**_head(self), "results": [
            {"success": None} if r == DataAccessResult.SUCCESS else
            {"data_access_error": r.to_meaning()} for r in self.results]}


SN_CLASSES = (ReadRequest, ReadResponse, WriteRequest, WriteResponse,
              UnconfirmedWriteRequest, InformationReportRequest)
"""The short-name APDU classes, each with its ``TAG``."""

__all__ = ["DataBlockResult", "InformationReportRequest", "ReadRequest", "ReadResponse",
           "SN_CLASSES", "UnconfirmedWriteRequest", "WriteRequest", "WriteResponse"]
