"""Pushes built with dlmsfast's own encoders (apdu, security, hdlc), for the push
tests and benchmarks: data-notifications carrying {OBIS, value, scaler_unit}
structures, optionally general-glo-ciphered, cut into general-block-transfer
blocks, framed in HDLC (segmented) or M-Bus long frames."""
from __future__ import annotations

import datetime as dt

from dlmsfast.apdu import DataNotification, GeneralBlockTransfer
from dlmsfast.axdr import Data, DataType, DateTime
from dlmsfast.hdlc import FrameKind, HdlcAddress, HdlcControl, HdlcFrame, LLC_RESPONSE
from dlmsfast.security import SecurityContext

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
METER_TITLE = bytes.fromhex("4B464D1020304050")

# (OBIS, DLMS type, scaler, unit code)
OBJECTS = [
    ((1, 0, 1, 8, 0, 255), DataType.DOUBLE_LONG_UNSIGNED, 0, 30),
    ((1, 0, 2, 8, 0, 255), DataType.DOUBLE_LONG_UNSIGNED, 0, 30),
    ((1, 0, 1, 7, 0, 255), DataType.DOUBLE_LONG_UNSIGNED, 0, 27),
    ((1, 0, 32, 7, 0, 255), DataType.LONG_UNSIGNED, -1, 35),
    ((1, 0, 31, 7, 0, 255), DataType.LONG_UNSIGNED, -2, 33),
]
# Central European time, as the date-time's deviation says (-60)
START = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def body(values: list[int], repeat: int = 1) -> Data:
    """{OBIS, value, scaler_unit} for each object; ``repeat`` > 1 adds the same
    objects again with value group E = 1, 2... (the tariff registers)."""
    return Data(DataType.STRUCTURE, tuple(
        Data(DataType.STRUCTURE, (
            Data(DataType.OCTET_STRING, bytes(obis[:4]) + bytes((obis[4] + k, obis[5]))),
            Data(kind, value),
            Data(DataType.STRUCTURE, (Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit))),
        ))
        for k in range(repeat)
        for (obis, kind, scaler, unit), value in zip(OBJECTS, values)
    ))


def values_of(n: int) -> list[int]:
    return [1000 * n + 1, 7 * n, 100 + n, 2300 + n % 50, 150 + n % 90]


def notification(n: int, repeat: int = 1) -> bytes:
    """The n-th plain data-notification: date-time START + n seconds."""
    when = DateTime.from_datetime(START + dt.timedelta(seconds=n), clock_status=0)
    return DataNotification(date_time=when.to_bytes(),
                            notification_body=body(values_of(n), repeat)).to_bytes()


def meter_context() -> SecurityContext:
    """The meter's side: ciphers with its own system title and counter."""
    return SecurityContext(system_title=METER_TITLE, block_cipher_key=EK, authentication_key=AK,
                           invocation_counter=1)


def ciphered(apdu: bytes, context: SecurityContext) -> bytes:
    return context.encrypt(apdu, form="general-glo", security_control=0x30)


def gbt_blocks(apdu: bytes, size: int = 64) -> list[bytes]:
    parts = [apdu[i : i + size] for i in range(0, len(apdu), size)]
    return [
        GeneralBlockTransfer(last_block=i == len(parts) - 1, block_number=i + 1,
                             block_data=part).to_bytes()
        for i, part in enumerate(parts)
    ]


def hdlc_frames(apdu: bytes, max_information: int = 128) -> list[bytes]:
    """The APDU (with its LLC header) in UI frames of at most ``max_information`` octets."""
    info = LLC_RESPONSE + apdu
    parts = [info[i : i + max_information] for i in range(0, len(info), max_information)]
    return [
        HdlcFrame(HdlcAddress.client(0x10), HdlcAddress.server(1, None, 1),
                  HdlcControl(FrameKind.UI, pf=True), part, segmented=i < len(parts) - 1).to_bytes()
        for i, part in enumerate(parts)
    ]


def mbus_frames(apdu: bytes, size: int = 200, address: int = 0xFF) -> list[bytes]:
    """DLMS over M-Bus long frames: CI 0x00.. with bit 4 on the last segment."""
    parts = [apdu[i : i + size] for i in range(0, len(apdu), size)]
    frames = []
    for i, part in enumerate(parts):
        ci = (0x10 if i == len(parts) - 1 else 0) | (i & 0x0F)
        content = bytes((0x53, address, ci, 0x01, 0x67)) + part
        frames.append(bytes((0x68, len(content), len(content), 0x68)) + content
                      + bytes((sum(content) & 0xFF, 0x16)))
    return frames


def expected_rows(n: int) -> set[tuple[str, int]]:
    """(OBIS, raw value) of the n-th notification's readings."""
    return {(".".join(map(str, obis)), value) for (obis, *_), value in zip(OBJECTS, values_of(n))}
