"""PushDecoder: pushed octets in, readings out (sans-IO).

The layers a push goes through, bottom to top::

    octets ──PushFramer──> HDLC / M-Bus / wrapper units (junk skipped, resync)
           ──segments────> one APDU per sender (HDLC S bit, M-Bus CI FIN bit)
           ──LLC─────────> E6 E7 00 removed
           ──GBT─────────> general-block-transfer blocks joined (E0 ... E0 last)
           ──deciphering─> general-glo- (DB), general-ded- (DC), glo-/ded- APDUs
           ──notification> data-notification (0F), event-notification (C2), or a
                           DSMR P1 text telegram inside the ciphering (Luxembourg)
           ──body────────> readings (see dlmsfast.push.body and .layouts)

Use::

    decoder = PushDecoder(keys=PushKeys(ek=..., ak=...))
    for event in decoder.feed(chunk):          # any piece of the stream
        if isinstance(event, Notification):
            for reading in event.readings: ...
        else:                                  # Rejected: event.error is a DlmsError
            ...
    decoder.finish()                           # end of input: a cut APDU is Rejected

``feed`` takes framed streams (HDLC, M-Bus, wrapper: octets outside a frame are
skipped as line noise); a bare APDU goes to ``feed_apdu``, and ``feed_chunk``
chooses between them for a datagram or a line of a capture.

``feed`` never raises on received octets: what cannot be decoded comes back as
a :class:`Rejected` event holding the precise :class:`DlmsError` (DecodeError
with offset, TagError, ReplayError, ProtocolError...). Misuse (a bad argument)
raises at once.

Tags: whenever an authentication key (AK) is given, the tag of every ciphered
APDU is checked and an APDU without one is refused (the security policy asks
for authentication). Customers of several utilities get only the encryption
key: ``verify_tag=False`` (``--no-tag-check``) must then be asked for by name,
and deciphers without any check; such readings say ``authenticated=False``.
Each sender's invocation counter must go up (a replayed APDU is refused).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import gc
from typing import Any, Iterable, Optional

from .._util import as_bytes
from ..apdu import EventNotificationRequest, GeneralBlockTransfer
from ..axdr import DateTime, decode_from
from ..cosem.obis import Obis
from ..errors import ConfigurationError, DecodeError, DlmsError, ProtocolError, SecurityError
from ..security import SecurityContext, SecurityControl, is_ciphered_tag, parse_ciphered
from ..security.ciphered import SC_AUTHENTICATION, SC_ENCRYPTION
from ..cosem.timestamps import to_timestamp
from .body import ReadingBuilder
from .dsmr import is_telegram, telegram_readings
from .framing import HDLC, MBUS, PushFramer, Segment, is_framed, starts_with_llc, strip_llc
from .keys import PushKeys, PushKeysArgument, keys_table
from .layouts import Layout, LayoutsArgument, as_layouts
from ._push import SlotMaker
from .reading import Notification, PushEvent, Rejected

# A pushed APDU is a few kilobytes; a bound keeps a sender that never ends its
# segments (or GBT blocks) from growing memory without limit.
MAX_APDU = 0x10000
_MAX_NESTING = 4  # GBT > ciphering > GBT > notification at most
_MAX_SEGMENT = 0x7FF  # the longest part of an APDU a frame holds (HDLC; M-Bus: 255)
_DATA_NOTIFICATION = 0x0F
_EVENT_NOTIFICATION = 0xC2
_GBT = 0xE0
_GENERAL_SERVICE = (0xDB, 0xDC)
# glo-/ded- APDUs do not carry the sender's system title; the keys entry must
_OUR_TITLE = b"DLMSFAST"  # our own system title: never sent, a listener only receives
_RAW_DESCRIPTOR = 9  # class-id(2) OBIS(6) attribute(1)
_make_notification = SlotMaker(Notification)


def parse_notification(apdu: bytes) -> tuple[Optional[bytes], Any]:
    """``(date_time_octets, body)`` of a data-notification, the body in its plain
    A-XDR form (:func:`dlmsfast.axdr.decode_from`)::

        0F  long-invoke-id-and-priority(4)  date-time  notification-body

    date-time: ``00`` (absent) or ``0C`` + 12 octets as the standard has it;
    ``01`` + 12 octets as dlms-cosem writes it; and the known quirks:

    - Kaifa (Norway) writes ``09 0C`` + 12 octets, a typed octet-string
      inside the OCTET STRING field;
    - Sagemcom XT211 and Czech DSO lists write each capture object's
      descriptor (class-id, OBIS, attribute: 9 octets) untyped inside a
      structure: ``02 02 <9 octets> <value>``.
    """
    date_time, pos = notification_header(apdu)
    try:
        body, end = decode_from(apdu, pos)
    except DecodeError as error:
        body = _untyped_descriptor_list(apdu, pos)
        if body is None:
            raise error from None
        return date_time, body
    if end != len(apdu):
        raise DecodeError(f"{len(apdu) - end} octets after the data-notification body", end)
    return date_time, body


def notification_header(apdu: bytes) -> tuple[Optional[bytes], int]:
    """``(date_time_octets, body_offset)`` of a data-notification (see
    :func:`parse_notification`)."""
    if type(apdu) is not bytes:
        apdu = as_bytes(apdu, "a data-notification")
    if len(apdu) < 7 or apdu[0] != _DATA_NOTIFICATION:
        raise DecodeError("a data-notification is 0F, an invoke id of 4 octets, a date-time "
                          "and a body", min(len(apdu), 6))
    form = apdu[5]
    if form == 0x0C or form == 0x01:
        date_time, pos = apdu[6:18], 18
    elif form == 0x09 and apdu[6] == 0x0C:
        date_time, pos = apdu[7:19], 19
    elif form == 0:
        date_time, pos = None, 6
    else:
        raise DecodeError(f"data-notification date-time of length {form} (0 or 12)", 5)
    if pos >= len(apdu):
        raise DecodeError("data-notification without its body", len(apdu))
    return date_time, pos


def _untyped_descriptor_list(apdu: bytes, pos: int) -> Optional[tuple]:
    """The Czech structure {enum, array of {raw descriptor, value}} in plain form
    ({enum, [(class-id, OBIS, attribute, value)...]}), or None if it is not one."""
    try:
        if apdu[pos : pos + 2] != b"\x02\x02":
            return None
        head, pos = decode_from(apdu, pos + 2)
        if apdu[pos] != 0x01 or apdu[pos + 1] & 0x80:
            return None
        count = apdu[pos + 1]
        pos += 2
        items = []
        for _ in range(count):
            if apdu[pos : pos + 2] != b"\x02\x02" or pos + 2 + _RAW_DESCRIPTOR > len(apdu):
                return None
            raw = apdu[pos + 2 : pos + 2 + _RAW_DESCRIPTOR]
            value, pos = decode_from(apdu, pos + 2 + _RAW_DESCRIPTOR)
            attribute = raw[8] - 256 if raw[8] > 127 else raw[8]
            items.append((raw[0] << 8 | raw[1], raw[2:8], attribute, value))
        if pos != len(apdu):
            return None
    except (DlmsError, IndexError):
        return None
    return (head, items)


def _zone(local_tz: Any) -> Optional[_dt.tzinfo]:
    """``local_tz`` as a tzinfo: one already, or an IANA zone name (as --timezone)."""
    if local_tz is None or isinstance(local_tz, _dt.tzinfo):
        return local_tz
    if not isinstance(local_tz, str):
        raise ConfigurationError("local_tz must be a datetime.tzinfo or a zone name such as "
                                 f"'Europe/Oslo', got {type(local_tz).__name__}")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(local_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"unknown time zone {local_tz!r} (e.g. 'Europe/Oslo')") from None


def _opens_a_push(plaintext: bytes) -> bool:
    """Whether deciphered octets start as a pushed APDU (or a DSMR telegram) can."""
    return bool(plaintext) and (plaintext[0] in (_DATA_NOTIFICATION, _EVENT_NOTIFICATION, _GBT)
                                or is_ciphered_tag(plaintext[0]) or is_telegram(plaintext))


def is_whole_apdu(data: bytes) -> bool:
    """Whether ``data`` (after an LLC header) is exactly one push APDU: a
    data-/event-notification, block-transfer block or ciphered APDU that parses
    to its last octet. Parsing only (no deciphering, no state): a stray octet
    that happens to be a push tag, followed by a frame, is not one."""
    apdu = strip_llc(data)
    if not apdu:
        return False
    tag = apdu[0]
    try:
        if tag == _DATA_NOTIFICATION:
            parse_notification(apdu)
        elif tag == _GBT:
            GeneralBlockTransfer.from_bytes(apdu)
        elif tag == _EVENT_NOTIFICATION:
            EventNotificationRequest.from_bytes(apdu)
        elif is_ciphered_tag(tag):
            parse_ciphered(apdu)
        else:
            return False
    except DlmsError:
        return False
    return True


class PushDecoder:
    """Decodes a pushed stream into :class:`Notification` and :class:`Rejected` events.

    ``keys``: None (plain pushes only), a :class:`PushKeys` for any meter, or a
    mapping of system title to keys (see :func:`dlmsfast.push.keys_table`).
    ``layouts``: None for the built-in list layouts, a folder of the user's
    (tried first), or Layout objects. ``verify_tag=False`` allows deciphering
    with no authentication key (readings marked unauthenticated); with an AK
    the tag is always checked. ``keep_raw`` keeps each notification's frames.
    ``local_tz`` (``zoneinfo.ZoneInfo("Europe/Oslo")`` or the name ``"Europe/Oslo"``) is the zone of
    meters that send date-times without a deviation: their timestamps become
    aware datetimes; without it such a date-time stays the
    :class:`~dlmsfast.axdr.DateTime` sent (see :mod:`dlmsfast.cosem.timestamps`).
    """

    def __init__(self, *, keys: PushKeysArgument = None, layouts: LayoutsArgument = None,
                 verify_tag: bool = True,
                 keep_raw: bool = False, local_tz: Optional[_dt.tzinfo] = None) -> None:
        self._keys = keys_table(keys)
        if verify_tag:
            missing = [t for t, k in self._keys.items() if k.ak is None]
            if missing:
                raise ConfigurationError(
                    "an encryption key without an authentication key cannot check tags: "
                    "give the AK, or ask for verify_tag=False (--no-tag-check) to decipher "
                    "without checking (readings are then marked unauthenticated)")
        self.verify_tag = bool(verify_tag)
        self.layouts: tuple[Layout, ...] = as_layouts(layouts)
        self.keep_raw = bool(keep_raw)
        self.local_tz = _zone(local_tz)
        self._framer = PushFramer()
        self._segments: dict[tuple, list[Segment]] = {}
        self._blocks: dict[Any, list[GeneralBlockTransfer]] = {}
        self._contexts: dict[Optional[bytes], SecurityContext] = {}
        self.notifications = 0
        self.rejected = 0

    def __repr__(self) -> str:
        return (f"PushDecoder(meters with keys: {len(self._keys)}, layouts: {len(self.layouts)}, "
                f"verify_tag={self.verify_tag}, notifications={self.notifications}, "
                f"rejected={self.rejected})")

    @property
    def framer(self) -> PushFramer:
        """The link-layer scanner (its counters say how much garbage was skipped)."""
        return self._framer

    # -- input -----------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[PushEvent]:
        """Add received octets; return the events they complete."""
        events: list[PushEvent] = []
        framer = self._framer
        # Readings are acyclic: the cyclic GC would only rescan them (a third of
        # the time on a long capture), so it pauses while they are made, as the
        # A-XDR decoder does for large values.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            for item in framer.feed(data):
                if type(item) is Segment:
                    self._segment(item, events)
                else:
                    self._reject(item, (), events)
        finally:
            if paused:
                gc.enable()
        return events

    def feed_apdu(self, apdu: bytes | bytearray | memoryview, *,
                  frames: Iterable[bytes] = ()) -> list[PushEvent]:
        """Decode one whole bare APDU (a datagram, a line of a capture, an LLC PDU)."""
        events: list[PushEvent] = []
        data = as_bytes(apdu)
        self._apdu(strip_llc(data), ("apdu",), tuple(frames) or (data,), events)
        return events

    def feed_chunk(self, data: bytes | bytearray | memoryview, *,
                   datagram: bool = False) -> list[PushEvent]:
        """``feed`` for octets that may also be one bare APDU (a datagram, a line
        of a capture, one write of a raw stream).

        A datagram that does not start with a frame goes to :meth:`feed_apdu`.
        A chunk of a stream goes there only when no frame is pending and the
        chunk is exactly one push APDU (its LLC header allowed), checked to its
        last octet by its own length fields or body; anything else, a frame
        after a stray octet above all, goes to :meth:`feed` (the framer), so a
        stream read in arbitrary pieces resynchronises on its next frame."""
        data = as_bytes(data, "a chunk of received octets")
        if not is_framed(data) and not self._framer.pending_frame():
            if datagram or is_whole_apdu(data):
                return self.feed_apdu(data)
        if not datagram:
            return self.feed(data)
        # a datagram is whole: octets the framer passes over are a push lost,
        # said as Rejected (a stream only resynchronises on the next frame)
        before = self._framer.discarded_bytes
        events = self.feed(data)
        skipped = self._framer.discarded_bytes - before
        if skipped:
            self._reject(DecodeError(f"{skipped} of the datagram's {len(data)} octets are "
                                     "not a frame of a push: dropped"), (data,), events)
        return events

    def finish(self) -> list[PushEvent]:
        """End of input: a frame, segmented APDU or block transfer cut short is
        reported as Rejected."""
        events: list[PushEvent] = []
        rest = self._framer.take_pending()
        if rest.strip(b"\x7e"):
            self._reject(DecodeError(f"input ended inside a frame ({len(rest)} octets left)"),
                         (rest,), events)
        for parts in self._segments.values():
            self._reject(ProtocolError(f"input ended after {len(parts)} segment(s) of an APDU"),
                         tuple(p.raw for p in parts), events)
        self._segments.clear()
        for blocks in self._blocks.values():
            self._reject(ProtocolError(f"input ended after {len(blocks)} general-block-transfer "
                                       "block(s) without the last one"), (), events)
        self._blocks.clear()
        return events

    # -- layers ----------------------------------------------------------------

    def _reject(self, error: DlmsError, frames: tuple, events: list) -> None:
        self.rejected += 1
        events.append(Rejected(error, frames if self.keep_raw else ()))

    def _segment(self, segment: Segment, events: list) -> None:
        channel = segment.channel
        parts = self._segments.get(channel)
        if parts is None:
            if segment.last:
                self._apdu(strip_llc(segment.data), channel, (segment.raw,), events)
                return
            if segment.kind == HDLC:
                # the first of an APDU's frames: nothing to check it against yet
                # (one frame holds far less than MAX_APDU)
                self._segments[channel] = [segment]
                return
            parts = self._segments[channel] = []
        if parts and segment.kind == HDLC and starts_with_llc(segment.data):
            # a new APDU begins (only first segments carry the LLC header): the
            # one under way lost its last segment
            del self._segments[channel]
            self._reject(ProtocolError(f"segmented APDU cut after {len(parts)} segment(s): "
                                       "a new one began"), tuple(p.raw for p in parts), events)
            self._segment(segment, events)
            return
        if segment.kind == MBUS and segment.number != len(parts) & 0x0F:
            del self._segments[channel]
            self._reject(ProtocolError(f"M-Bus segment {segment.number} where "
                                       f"{len(parts) & 0x0F} was expected"),
                         tuple(p.raw for p in parts) + (segment.raw,), events)
            if segment.number == 0:
                self._segment(segment, events)
            return
        parts.append(segment)
        # a frame holds at most _MAX_SEGMENT octets: only many parts can pass the bound
        if len(parts) * _MAX_SEGMENT > MAX_APDU and sum([len(p.data) for p in parts]) > MAX_APDU:
            del self._segments[channel]
            self._reject(ProtocolError(f"segmented APDU longer than {MAX_APDU} octets"),
                         tuple([p.raw for p in parts]), events)
            return
        if segment.last:
            del self._segments[channel]
            apdu = b"".join([p.data for p in parts])
            # the frames go with the events only when kept (keep_raw)
            frames = tuple([p.raw for p in parts]) if self.keep_raw else ()
            self._apdu(strip_llc(apdu), channel, frames, events)

    def _apdu(self, apdu: bytes, channel: tuple, frames: tuple, events: list) -> None:
        try:
            event = self._open(apdu, channel, frames, _MAX_NESTING, None)
        except DlmsError as error:
            self._reject(error, frames, events)
            return
        if event is not None:
            self.notifications += 1
            events.append(event)

    def _open(self, apdu: bytes, channel: tuple, frames: tuple, depth: int,
              security: Optional[tuple]) -> Optional[Notification]:
        if not apdu:
            raise DecodeError("empty APDU", 0)
        if depth == 0:
            raise ProtocolError("APDUs nested too deep (block transfer and ciphering)")
        tag = apdu[0]
        if tag == _DATA_NOTIFICATION:
            return self._notification(apdu, frames, security)
        if tag == _GBT:
            whole = self._block(GeneralBlockTransfer.from_bytes(apdu), channel)
            return None if whole is None else self._open(whole, channel, frames, depth - 1, security)
        if is_ciphered_tag(tag):
            plaintext, security = self._decipher(apdu)
            if not security[2] and not _opens_a_push(plaintext):
                # no tag said whether the key fits: octets that open no APDU a
                # meter pushes are what a wrong key gives
                first = f"0x{plaintext[0]:02X}" if plaintext else "nothing"
                raise SecurityError(
                    f"deciphered without a tag check, the push opens with {first}, no push "
                    "APDU: the encryption key (EK) is probably wrong for this meter")
            return self._open(plaintext, channel, frames, depth - 1, security)
        if tag == _EVENT_NOTIFICATION:
            return self._event(apdu, frames, security)
        if is_telegram(apdu) and security is not None:
            return self._telegram(apdu, frames, security)
        raise ProtocolError(f"APDU 0x{tag:02X} is not a push (data-notification, "
                            "event-notification, block transfer or ciphered)")

    def _block(self, block: GeneralBlockTransfer, channel: tuple) -> Optional[bytes]:
        blocks = self._blocks.get(channel)
        if blocks is None:
            if block.block_number != 1 and not block.last_block:
                raise ProtocolError(f"general-block-transfer block {block.block_number} "
                                    "without block 1")
            if block.last_block and block.block_number == 1:
                return block.block_data
            blocks = self._blocks[channel] = []
        elif block.block_number != blocks[-1].block_number + 1:
            del self._blocks[channel]
            raise ProtocolError(f"general-block-transfer block {block.block_number} after "
                                f"block {blocks[-1].block_number}")
        blocks.append(block)
        if sum(len(b.block_data) for b in blocks) > MAX_APDU:
            del self._blocks[channel]
            raise ProtocolError(f"general-block-transfer APDU longer than {MAX_APDU} octets")
        if not block.last_block:
            return None
        del self._blocks[channel]
        return b"".join(b.block_data for b in blocks)

    # -- deciphering -----------------------------------------------------------

    def _context(self, title: Optional[bytes]) -> tuple[SecurityContext, PushKeys, bytes]:
        keys = self._keys.get(title) if title is not None else None
        if keys is None:
            keys = self._keys.get(None)
        if keys is None:
            if title is not None:
                raise SecurityError(f"ciphered push from {title.hex().upper()}: no key given "
                                    "for this meter")
            if self._keys:
                raise SecurityError("a glo-/ded- ciphered push carries no system title, so keys "
                                    "given per system title cannot be matched to it: give its "
                                    "keys for any meter, with its system title")
            raise SecurityError("ciphered push (glo-/ded-, without its system title): no keys given")
        peer = title or keys.system_title
        if peer is None:
            raise SecurityError("a glo-/ded- ciphered push does not carry the system title: "
                                "give it with the meter's keys (system_title)")
        context = self._contexts.get(peer)
        if context is None:
            context = SecurityContext(
                system_title=_OUR_TITLE, peer_system_title=peer,
                block_cipher_key=keys.ek,
                # without an AK nothing authenticated is ever deciphered here
                # (see _decipher), so this stand-in is never used as a key
                authentication_key=keys.ak if keys.ak is not None else bytes(len(keys.ek)),
                dedicated_key=keys.dk,
                security_suite=2 if len(keys.ek) == 32 else 0,
                security_policy=SC_AUTHENTICATION if keys.ak is not None else SC_ENCRYPTION,
            )
            self._contexts[peer] = context
        return context, keys, peer

    def _decipher(self, apdu: bytes) -> tuple[bytes, tuple]:
        title = None
        if apdu[0] in _GENERAL_SERVICE and len(apdu) > 10 and apdu[1] == 8:
            title = apdu[2:10]
        context, keys, peer = self._context(title)
        if keys.ak is not None:
            plaintext = context.decrypt(apdu, system_title=peer)
            return plaintext, (peer, context.peer_invocation_counter, True)
        # no AK: only with verify_tag=False (checked in __init__). The tag cannot be
        # checked, so the APDU is deciphered as its encryption-only form: the same
        # ciphertext (GCM counter mode) without the tag and without SC bit 4.
        parsed = parse_ciphered(apdu)
        sc = parsed.security_control.value
        if not sc & SC_ENCRYPTION:
            raise SecurityError(f"security control 0x{sc:02X}: an authenticated plaintext APDU "
                                "needs the AK to be checked")
        if sc & SC_AUTHENTICATION:
            parsed = dataclasses.replace(parsed, security_control=SecurityControl(sc & ~SC_AUTHENTICATION),
                                         authentication_tag=b"")
            apdu = parsed.to_bytes()
        plaintext = context.decrypt(apdu, system_title=peer)
        return plaintext, (peer, context.peer_invocation_counter, False)

    # -- notifications ---------------------------------------------------------

    def _notification(self, apdu: bytes, frames: tuple,
                      security: Optional[tuple]) -> Notification:
        date_time, pos = notification_header(apdu)
        timestamp = to_timestamp(date_time, self.local_tz)
        title, counter, authenticated = security if security is not None else (None, None, False)
        builder = ReadingBuilder(timestamp, authenticated, self.local_tz)
        if not builder.objects_at(apdu, pos):
            builder.body(parse_notification(apdu)[1], self.layouts)
        return self._finish(builder, timestamp, title, counter, authenticated, apdu, frames)

    def _telegram(self, text: bytes, frames: tuple, security: tuple) -> Notification:
        title, counter, authenticated = security
        builder = ReadingBuilder(None, authenticated)
        stamp = telegram_readings(text, builder)
        return self._finish(builder, stamp, title, counter, authenticated, text, frames)

    def _event(self, apdu: bytes, frames: tuple, security: Optional[tuple]) -> Notification:
        event = EventNotificationRequest.from_bytes(apdu)
        timestamp = to_timestamp(event.time, self.local_tz) if event.time and len(event.time) == 12 \
            else None
        title, counter, authenticated = security if security is not None else (None, None, False)
        builder = ReadingBuilder(timestamp, authenticated, self.local_tz)
        descriptor = event.cosem_attribute_descriptor
        builder.add(Obis.parse(descriptor.instance_id), event.attribute_value.to_plain(), None,
                    descriptor.attribute_id)
        return self._finish(builder, timestamp, title, counter, authenticated, apdu, frames)

    def _finish(self, builder: ReadingBuilder, timestamp, title, counter, authenticated,
                apdu: bytes, frames: tuple) -> Notification:
        readings = builder.readings
        if timestamp is None:
            # no date-time in the header: the clock object in the list dates them all
            for reading in readings:
                if reading.object.c == 1 and reading.object.d == 0 and isinstance(
                        reading.value, (_dt.datetime, DateTime)):
                    timestamp = reading.value
                    readings = [dataclasses.replace(r, timestamp=timestamp) for r in readings]
                    break
        if title is not None:
            meter_id = title.hex().upper()
        else:
            meter_id = builder.meter_id() if builder.meter_ids else None
        return _make_notification(
            tuple(readings), timestamp, counter, title, meter_id, authenticated,
            None if builder.layout is None else builder.layout.name,
            apdu, frames if self.keep_raw else (), tuple(builder.unnamed) if builder.unnamed else (),
        )


__all__ = ["MAX_APDU", "PushDecoder", "parse_notification"]
