"""Type stub of the compiled HDLC core (see _hdlc.pyx)."""
from typing import Optional, Union

from .._enum import BlueBookEnum
from ..errors import DecodeError

_Buffer = Union[bytes, bytearray, memoryview]

def fcs16(data: _Buffer) -> int: ...

class FrameKind(BlueBookEnum):
    I = 0x00
    RR = 0x01
    RNR = 0x05
    SNRM = 0x83
    DISC = 0x43
    UA = 0x63
    DM = 0x0F
    FRMR = 0x87
    UI = 0x03

class HdlcControl:
    kind: FrameKind
    ns: Optional[int]
    nr: Optional[int]
    pf: bool
    value: int
    def __init__(
        self, kind: FrameKind, ns: Optional[int] = ..., nr: Optional[int] = ..., pf: bool = ...
    ) -> None: ...
    @staticmethod
    def from_byte(byte: int, offset: Optional[int] = ...) -> HdlcControl: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...

class HdlcAddress:
    upper: int
    lower: Optional[int]
    size: int
    def __init__(self, upper: int, lower: Optional[int] = ..., size: Optional[int] = ...) -> None: ...
    @staticmethod
    def client(sap: int) -> HdlcAddress: ...
    @staticmethod
    def server(upper: int, lower: Optional[int] = ..., size: Optional[int] = ...) -> HdlcAddress: ...
    def to_bytes(self) -> bytes: ...
    def __bytes__(self) -> bytes: ...

def parse_address(data: _Buffer, offset: int = ...) -> tuple[HdlcAddress, int]: ...

class HdlcFrame:
    destination: HdlcAddress
    source: HdlcAddress
    control: HdlcControl
    information: bytes
    segmented: bool
    def __init__(
        self,
        destination: HdlcAddress,
        source: HdlcAddress,
        control: Union[HdlcControl, FrameKind],
        information: _Buffer = ...,
        segmented: bool = ...,
    ) -> None: ...
    @property
    def length(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    def __bytes__(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: _Buffer) -> HdlcFrame: ...
    def to_meaning(self) -> dict: ...

def parse_frame_from(data: _Buffer, offset: int = ...) -> tuple[int, Optional[HdlcFrame]]: ...

class HdlcStreamSplitter:
    discarded_bytes: int
    bad_frames: int
    frames: int
    last_error: Optional[DecodeError]
    def __init__(self) -> None: ...
    @property
    def pending(self) -> int: ...
    def feed(self, data: _Buffer) -> list[HdlcFrame]: ...
    def clear(self) -> None: ...

def address_key(address: HdlcAddress) -> int: ...

class HdlcLinkSplitter(HdlcStreamSplitter):
    foreign_frames: int
    def __init__(self, destination: HdlcAddress) -> None: ...
    def feed(self, data: _Buffer) -> list[tuple[int, bool, int, bytes, int]]: ...  # type: ignore[override]

def build_frames(
    destination_address: HdlcAddress, source_address: HdlcAddress,
    frames: "list[tuple[int, _Buffer, bool]]",
) -> bytes: ...
