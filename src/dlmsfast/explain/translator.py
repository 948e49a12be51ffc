"""The translator: bytes of any layer in, a tree of nodes out, one schema at every level.

It owns no codec. It recognises what the bytes are (HDLC frames, wrapper frames,
an APDU or an A-XDR value), asks the layer that owns them for the object's
``to_meaning()``, and descends: a frame's information field or a wrapper's
payload is decoded as an APDU, a ciphered APDU is deciphered step by step when
keys are given (:mod:`.ciphering`), and ciphered user-information inside an
AARQ/AARE/RLRQ/RLRE is opened with the system title of that same APDU.

Every node has the same keys (``schemas/decode.schema.json``)::

    {"kind":  "hdlc" | "mbus" | "wrapper" | "apdu" | "ciphered-apdu" | "axdr"
              | "segment" | "undecoded",
     "hex":   the octets of this node,
     "meaning":  the layer's to_meaning() (the schemas of shared/vectors), or null,
     "deciphering": the steps of .ciphering (ciphered APDUs with keys or --explain),
     "content":  the node inside (information field, payload, plaintext), or null,
     "error":    {"type", "message", "offset"} when this node could not be decoded,
     "notes":    findings that do not stop decoding (bad FCS, trailing octets)}

Real captures are taken as they come: HDLC frames back to back, doubled flags,
a frame with a bad FCS (kept, with ``fcs_valid: false``), M-Bus long frames
carrying DLMS (EN 13757-2, DLMS segments in CI 0x00-0x1F), an APDU behind its
LLC header (E6 E7 00). The segments of one APDU (HDLC, M-Bus) and the blocks
of a general-block-transfer are joined, and the whole APDU becomes the content
of the node that completes it.

Pushed data (a data-notification, plain or ciphered, in frames, blocks or bare)
is also read by :mod:`dlmsfast.push` into readings (``Decoded.notifications``):
the same list layouts as ``dlmsfast listen``, and the same quirks of real meters
(where the generic APDU decoder refuses a meter's quirk, its node keeps the
error, with a note, and does not count as undecodable).

Detection tries HDLC (flag 0x7E first), M-Bus (0x68), wrapper (version
0x0001), APDU (a known tag) and A-XDR; the
first that reads the whole input wins. A first octet that is an APDU tag
(readRequest 0x05 is also the A-XDR tag of double-long) is read as that APDU
first; only when the APDU reading fails is the input read as an A-XDR value,
with a note saying why the APDU reading failed. When none does, the error of the reading
the first octet points to is reported, with a hint to force another with
``--as``.
"""
from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .. import axdr, hdlc, wrapper
from .._tags import (
    APDU_NAME,
    DATA_NOTIFICATION,
    EVENT_NOTIFICATION_REQUEST,
    GENERAL_BLOCK_TRANSFER,
    GENERAL_DED_CIPHERING,
    GENERAL_GLO_CIPHERING,
    INFORMATION_REPORT_REQUEST,
)
from .._util import as_bytes, octets_argument, require, shown
from ..apdu import parse_apdu
from ..apdu.acse import AARE, AARQ, RLRE, RLRQ
from ..apdu.gbt import GeneralBlockTransfer
from ..apdu.initiate import InitiateRequest
from ..errors import DecodeError, DlmsError, SecurityError, UsageError
from ..security.ciphered import (
    CipheredApdu,
    GeneralDedCiphering,
    is_ciphered_tag,
    parse_ciphered,
)
from .ciphering import TitleSource, Walk, decipher_walk

KINDS = ("hdlc", "mbus", "wrapper", "apdu", "axdr")

# the first octets of a push: data-notification, event-notification. The push
# decoder also reads general-block-transfer and the general ciphering forms, but
# these carry any APDU: a push or not is known once joined or deciphered (the
# whole goes through payload() again); only blocks left unjoined, or a general
# form left closed, may still be a push
_PUSH_TAGS = frozenset((DATA_NOTIFICATION, EVENT_NOTIFICATION_REQUEST))
_GENERAL_CIPHERING = frozenset((GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING))
_LLC_HEADERS = (hdlc.LLC_COMMAND, hdlc.LLC_RESPONSE)

# M-Bus long frame (EN 13757-2): 68 L L 68 C A CI STSAP DTSAP data CS 16
_MBUS_START = 0x68
_MBUS_STOP = 0x16
_MBUS_DLMS_CI_LAST = 0x1F  # CI 0x00-0x1F: a DLMS APDU segment
_MBUS_LAST_SEGMENT = 0x10

_HEX_NOISE = re.compile(r"0x|[\s:_\-,]", re.IGNORECASE)


def parse_hex(text: str, what: str = "hex input") -> bytes:
    """Hex as people paste it: spaces, line breaks, colons, dashes and 0x prefixes are ignored."""
    require(text, str, what)
    cleaned = _HEX_NOISE.sub("", text)
    if "*" in cleaned:
        # `read --trace` shows each octet of a password as **: what they were is
        # not in the line, and a frame with them replaced would decode to a lie
        # (its FCS, an LLS password) rather than to what was sent
        masked = max(1, cleaned.count("*") // 2)
        raise UsageError(
            f"{what} has {masked} octet(s) masked by --trace (** from octet "
            f"{cleaned.index('*') // 2}): masked octets cannot be decoded; decode the "
            "trace's other frames, or a capture that was not masked")
    if len(cleaned) % 2:
        raise UsageError(f"{what} has an odd number of hex digits ({len(cleaned)})")
    try:
        return binascii.unhexlify(cleaned)
    except (binascii.Error, ValueError):
        bad = next((c for c in cleaned if c not in "0123456789abcdefABCDEF"), "?")
        raise UsageError(f"{what} is not hex (character {bad!r})") from None


def input_octets(raw: bytes, what: str = "input") -> bytes:
    """The bytes of an input given as hex text (pasted, with any separators and line
    breaks) or as binary (a capture file): text that is not all printable is binary."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw
    if any(not c.isprintable() and c not in "\r\n\t" for c in text):
        return raw
    return parse_hex(text, what)


@dataclass(frozen=True)
class Keys:
    """What the user gave for deciphering. Never printed: the repr hides the keys."""

    encryption_key: bytes | None = field(default=None, repr=False)
    authentication_key: bytes | None = field(default=None, repr=False)
    system_title: bytes | None = None
    check_tag: bool = True

    def __post_init__(self) -> None:
        for name in ("encryption_key", "authentication_key", "system_title"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, octets_argument(value, name.replace("_", " ")))
        object.__setattr__(self, "check_tag", bool(self.check_tag))

    def __bool__(self) -> bool:
        return self.encryption_key is not None or self.authentication_key is not None


def _error(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": getattr(exc, "message", str(exc)),
            "offset": getattr(exc, "offset", None)}


def node(kind: str, octets: bytes, meaning: Any = None, **more: Any) -> dict[str, Any]:
    result = {"kind": kind, "hex": octets.hex().upper(), "meaning": meaning,
              "deciphering": None, "content": None, "error": None, "notes": []}
    result.update(more)
    return result


@dataclass
class Decoded:
    """What the translator found: the kind of the input and its nodes."""

    kind: str
    nodes: list[dict[str, Any]]
    walks: list[Walk] = field(default_factory=list)
    notifications: list[Any] = field(default_factory=list)
    """The :class:`dlmsfast.push.Notification` objects the input carries."""
    notification_error: DlmsError | None = None
    """Why the push decoder could not read a push the input seems to carry."""
    notification_error_counts: bool = True
    """False when that error is only a key not given (the structure is still shown)."""
    push_known: bool = True
    """False when the push decoder was asked only because a general-ciphering APDU
    stayed closed: it may carry a push, or anything else."""

    @property
    def meaning(self) -> dict[str, Any]:
        """The meaning of the first node (the layer's to_meaning())."""
        return self.nodes[0]["meaning"]


class _Translation:
    """One translation: the keys given, and every deciphering walked on the way down."""

    def __init__(self, keys: Keys, explain: bool) -> None:
        self.keys = keys
        self.explain = explain
        self.walks: list[Walk] = []
        # learnt from the capture itself, in order: the system titles of the AARQ
        # (client) and AARE (server), and the dedicated key of a deciphered
        # InitiateRequest, for the glo-/ded- APDUs that follow
        self.titles: dict[bool, TitleSource] = {}
        self.dedicated_key: bytes | None = None
        # whether something the push decoder reads was met on the way down; and
        # whether a general-ciphering APDU stayed closed (a push or not: unknown)
        self.push_like = False
        self.push_unopened = False
        # general-block-transfer blocks met and not (yet) joined into their APDU
        self.unjoined_blocks = 0

    # -- layers -------------------------------------------------------------------

    def axdr(self, data: bytes) -> list[dict[str, Any]]:
        return [node("axdr", data, axdr.decode_typed(data).to_meaning())]

    def hdlc(self, data: bytes) -> list[dict[str, Any]]:
        spans, rest = _hdlc_frames(data)
        frames = [self.hdlc_frame(data[start:end], start) for start, end in spans]
        self.reassemble(frames)
        self.join_blocks(frames)
        if rest is not None:
            # octets after the last whole frame (a capture cut short, trailing noise)
            frames.append(node("undecoded", data[rest.offset if rest.offset is not None
                                                 else 0:], error=_error(rest)))
        return frames

    def hdlc_frame(self, raw: bytes, base: int) -> dict[str, Any]:
        try:
            meaning = hdlc.describe_frame(raw)
        except DecodeError as exc:
            exc = DecodeError(exc.message, None if exc.offset is None else exc.offset + base)
            return node("undecoded", raw, error=_error(exc))
        result = node("hdlc", raw, meaning)
        if not meaning["fcs_valid"]:
            result["notes"].append("FCS does not match the frame (fcs_valid false); "
                                   "decoded anyway")
        if meaning.get("hcs_valid") is False:
            result["notes"].append("HCS does not match the header (hcs_valid false)")
        info = bytes.fromhex(meaning["information"] or "")
        if meaning.get("llc"):
            result["content"] = self.payload(info[3:], segmented=meaning["format"]["segmented"])
        elif info and meaning["control"]["frame"] in ("I", "UI"):
            # A continuation segment has no LLC header: a part of a longer APDU.
            # Meters pushing general-block-transfer (L+G E450) send the blocks
            # after the first without it too, in unsegmented frames.
            block = info[0] == GENERAL_BLOCK_TRANSFER and not meaning["format"]["segmented"]
            result["content"] = self.payload(info, segmented=not block)
        return result

    def reassemble(self, frames: list[dict[str, Any]]) -> None:
        """Segments of one APDU in frames of the capture (the first with the LLC
        header, the last without the segmentation bit): the last frame's content
        becomes the whole APDU."""
        parts: list[bytes] = []
        for item in frames:
            meaning = item["meaning"]
            if item["kind"] != "hdlc" or meaning["control"]["frame"] not in ("I", "UI"):
                continue
            info = bytes.fromhex(meaning["information"] or "")
            segmented = meaning["format"]["segmented"]
            if meaning.get("llc"):
                parts = [info[3:]] if segmented else []
            elif parts and info:
                parts.append(info)
                if not segmented:
                    item["content"] = self.payload(b"".join(parts), segmented=False)
                    item["content"]["notes"].append(
                        f"the whole APDU, reassembled from the {len(parts)} segments "
                        "ending in this frame")
                    parts = []

    def mbus(self, data: bytes) -> list[dict[str, Any]]:
        """M-Bus long frames back to back; the DLMS segments of one APDU (CI
        0x00-0x1F, bit 4 on the last) joined into the node of the last one."""
        nodes: list[dict[str, Any]] = []
        parts: list[bytes] = []
        pos = 0
        while pos < len(data):
            try:
                raw, meaning, payload = _mbus_frame(data, pos)
            except DecodeError as exc:
                if pos == 0:
                    raise
                nodes.append(node("undecoded", data[pos:], error=_error(exc)))
                break
            result = node("mbus", raw, meaning)
            if not meaning["checksum_valid"]:
                result["notes"].append("checksum does not match the frame "
                                       "(checksum_valid false); decoded anyway")
            if meaning["dlms_segment"] is not None:
                parts.append(payload)
                if meaning["last_segment"]:
                    result["content"] = self.payload(_strip_llc(b"".join(parts)),
                                                     segmented=False)
                    if len(parts) > 1:
                        result["content"]["notes"].append(
                            f"the whole APDU, reassembled from the {len(parts)} segments "
                            "ending in this frame")
                    parts = []
                else:
                    result["content"] = self.payload(payload, segmented=True)
            nodes.append(result)
            pos += len(raw)
        self.join_blocks(nodes)
        return nodes

    def join_blocks(self, nodes: list[dict[str, Any]]) -> None:
        """The blocks of a general-block-transfer (numbered from 1, the last
        flagged) in the frames of the capture: the node of the last block gets
        the whole APDU as its content."""
        self.join_apdu_blocks([item["content"] for item in nodes])

    def join_apdu_blocks(self, apdus: list[dict[str, Any] | None]) -> None:
        """join_blocks over APDU nodes (the contents of frames, or a bare APDU)."""
        blocks: list[GeneralBlockTransfer] = []
        for inner in apdus:
            if inner is None or inner["kind"] != "apdu" or \
                    not inner["hex"].startswith(f"{GENERAL_BLOCK_TRANSFER:02X}"):
                continue
            block = GeneralBlockTransfer.from_bytes(bytes.fromhex(inner["hex"]))
            if block.block_number == 1:
                blocks = []
            elif not blocks or block.block_number != blocks[-1].block_number + 1:
                inner["notes"].append(f"block {block.block_number} does not follow the "
                                      "blocks before it: not joined")
                blocks = []
                continue
            blocks.append(block)
            if block.last_block:
                whole = b"".join(b.block_data for b in blocks)
                self.unjoined_blocks -= len(blocks)
                inner["content"] = self.payload(whole, segmented=False)
                inner["content"]["notes"].append(
                    f"the whole APDU, joined from the {len(blocks)} general-block-transfer "
                    "block(s) ending here")
                blocks = []

    def wrapper(self, data: bytes) -> list[dict[str, Any]]:
        nodes = []
        pos = 0
        while pos < len(data):
            used, frame = wrapper.parse_wrapper_from(data, pos)
            if frame is None:
                rest = data[pos:]
                if pos == 0:
                    wrapper.WrapperFrame.from_bytes(rest)  # raises with the reason
                nodes.append(node("undecoded", rest, error=_error(DecodeError(
                    "octets after the last wrapper frame do not make a frame", pos))))
                break
            raw = data[pos:pos + used]
            result = node("wrapper", raw, wrapper.describe_wrapper(raw))
            if frame.payload:
                result["content"] = self.payload(frame.payload, segmented=False)
            nodes.append(result)
            pos += used
        self.join_blocks(nodes)
        return nodes

    def top_apdu(self, data: bytes, push: _PushReading) -> dict[str, Any]:
        """A bare APDU (behind its LLC header, when a capture kept it). A push the
        generic decoder refuses (a meter's quirk) is still shown, as undecoded,
        when the push decoder reads it."""
        apdu = _strip_llc(data)
        self.push_like = self.push_like or _pushed(apdu)
        self.count_block(apdu)
        try:
            result = self.apdu(apdu)
        except DecodeError as exc:
            if not ((_pushed(apdu) or _is_block(apdu)) and push.notifications()):
                raise
            result = node("undecoded", apdu, error=_error(exc))
        self.join_apdu_blocks([result])
        if len(apdu) < len(data):
            result["notes"].append(f"after the LLC header {data[:3].hex().upper()}")
        return result

    def apdu(self, data: bytes, title: TitleSource | None = None) -> dict[str, Any]:
        if data and is_ciphered_tag(data[0]):
            return self.ciphered(data, title)
        apdu = parse_apdu(data)
        result = node("apdu", data, _named(apdu, apdu.to_meaning()))
        if isinstance(apdu, AARQ) and apdu.calling_ap_title:
            self.titles[True] = TitleSource(apdu.calling_ap_title,
                                            "the AARQ's calling-AP-title earlier in the input")
        if isinstance(apdu, AARE) and apdu.responding_ap_title:
            self.titles[False] = TitleSource(
                apdu.responding_ap_title, "the AARE's responding-AP-title earlier in the input")
        if isinstance(apdu, InitiateRequest) and apdu.dedicated_key is not None:
            self.dedicated_key = apdu.dedicated_key
        if isinstance(apdu, (AARQ, AARE, RLRQ, RLRE)) and apdu.user_information:
            inner = apdu.user_information
            if is_ciphered_tag(inner[0]):
                result["content"] = self.ciphered(inner, _acse_title(apdu))
        return result

    def ciphered(self, data: bytes, title: TitleSource | None) -> dict[str, Any]:
        apdu = parse_ciphered(data)
        result = node("ciphered-apdu", data, apdu.to_meaning())
        # a general form carries any APDU: a push or not is known once deciphered
        # (the plaintext goes through payload()); unopened, it may be one
        general = data[0] in _GENERAL_CIPHERING
        if isinstance(apdu, CipheredApdu) and apdu.plain_tag in _PUSH_TAGS:
            self.push_like = True
        if not (self.keys or self.explain):
            self.push_unopened = self.push_unopened or general
            return result
        from_client = _from_client(apdu)
        if title is None:
            title = self.titles.get(from_client)
        if title is None:
            title = TitleSource(self.keys.system_title, "--system-title") \
                if self.keys.system_title is not None else TitleSource(None, "")
        key, key_source = self.keys.encryption_key, None
        dedicated = isinstance(apdu, GeneralDedCiphering) or (
            isinstance(apdu, CipheredApdu) and apdu.dedicated)
        if dedicated and self.dedicated_key is not None:
            key = self.dedicated_key
            key_source = "from the InitiateRequest deciphered earlier in the input"
        walk = decipher_walk(apdu, data, encryption_key=key,
                             authentication_key=self.keys.authentication_key, title=title,
                             check_tag=self.keys.check_tag, key_source=key_source)
        self.walks.append(walk)
        result["deciphering"] = walk.to_meaning(show_keys=self.explain)
        if walk.plaintext is not None and (apdu.security_control.encryption or walk.authenticated):
            inner = self.payload(walk.plaintext, segmented=False)
            if not walk.authenticated:
                inner["notes"].append("UNAUTHENTICATED: the tag was not checked")
            if inner["kind"] == "undecoded":
                inner["notes"].append(
                    "the deciphered octets do not decode (offsets count in them, not in "
                    "the input)" + ("" if walk.authenticated else
                                    ": without a tag, a wrong key or system title gives "
                                    "wrong octets and no other sign"))
            result["content"] = inner
        if general and result["content"] is None:
            self.push_unopened = True
        return result

    def count_block(self, apdu: bytes) -> None:
        if _is_block(apdu):
            self.unjoined_blocks += 1

    def payload(self, payload: bytes, *, segmented: bool) -> dict[str, Any]:
        """An APDU inside a frame; a part of a longer APDU is shown as a segment."""
        if segmented:
            return node("segment", payload,
                        notes=["part of a longer APDU: join the segments to decode it"])
        self.push_like = self.push_like or _pushed(payload)
        self.count_block(payload)
        try:
            return self.apdu(payload)
        except DecodeError as exc:
            return node("undecoded", payload, error=_error(exc))


def _named(apdu: Any, meaning: dict[str, Any]) -> dict[str, Any]:
    """The standard's names of the ACSE codes the meaning gives as numbers (the
    shared vectors fix the layer's meaning; the names are added here, for people):
    the AARE's result-source-diagnostic (authentication-failure ...) and the
    RLRQ/RLRE reason (normal, urgent / not-finished, user-defined)."""
    if isinstance(apdu, AARE) and apdu.result_source_diagnostic is not None:
        meaning["result_source_diagnostic"]["name"] = \
            apdu.result_source_diagnostic.blue_book_name
    if isinstance(apdu, (RLRQ, RLRE)) and apdu.reason is not None:
        meaning["reason_name"] = apdu.reason.blue_book_name
    return meaning


def _from_client(apdu: Any) -> bool:
    """Whether the client sent this ciphered APDU: requests go client to server,
    but for the two a server sends unasked (informationReportRequest,
    event-notification-request)."""
    if isinstance(apdu, CipheredApdu):
        if apdu.plain_tag in (INFORMATION_REPORT_REQUEST, EVENT_NOTIFICATION_REQUEST):
            return False
        name = APDU_NAME.get(apdu.plain_tag, "")
        return name.endswith(("Request", "-request"))
    return True


def _acse_title(apdu: Any) -> TitleSource | None:
    """The sender's system title for ciphered user-information when the same APDU
    carries it (AARQ, AARE); None for an RLRQ/RLRE, whose sender's title is the one
    learnt from the AARQ/AARE earlier in the input, else --system-title."""
    if isinstance(apdu, AARQ) and apdu.calling_ap_title:
        return TitleSource(apdu.calling_ap_title, "the AARQ's calling-AP-title")
    if isinstance(apdu, AARE) and apdu.responding_ap_title:
        return TitleSource(apdu.responding_ap_title, "the AARE's responding-AP-title")
    return None


def _strip_llc(apdu: bytes) -> bytes:
    return apdu[3:] if apdu[:3] in _LLC_HEADERS else apdu


def _pushed(apdu: bytes) -> bool:
    return bool(apdu) and apdu[0] in _PUSH_TAGS


def _is_block(apdu: bytes) -> bool:
    return bool(apdu) and apdu[0] == GENERAL_BLOCK_TRANSFER


def _mbus_frame(data: bytes, pos: int) -> tuple[bytes, dict[str, Any], bytes]:
    """(the frame's octets, its meaning, its DLMS segment) of the M-Bus long
    frame at ``pos``: 68 L L 68 | C A CI [STSAP DTSAP] data | CS 16."""
    if data[pos] != _MBUS_START:
        raise DecodeError(f"expected the M-Bus long frame start 0x68, got 0x{data[pos]:02X}",
                          pos)
    if pos + 4 > len(data):
        raise DecodeError("M-Bus long frame cut in its header", pos)
    length = data[pos + 1]
    if data[pos + 2] != length or data[pos + 3] != _MBUS_START:
        raise DecodeError("M-Bus long frame header is not 68 L L 68", pos)
    if length < 3:
        raise DecodeError(f"M-Bus long frame of length {length}: C, A and CI need 3", pos + 1)
    end = pos + length + 6
    if end > len(data):
        raise DecodeError(f"M-Bus long frame of {length + 6} octets, {len(data) - pos} given",
                          pos)
    if data[end - 1] != _MBUS_STOP:
        raise DecodeError(f"M-Bus long frame ends in 0x{data[end - 1]:02X}, not the stop "
                          "octet 0x16", end - 1)
    body = data[pos + 4:pos + 4 + length]
    checksum = data[pos + 4 + length]
    ci = body[2]
    dlms = ci <= _MBUS_DLMS_CI_LAST
    if dlms and length < 5:
        raise DecodeError("M-Bus DLMS frame too short for its STSAP and DTSAP", pos + 1)
    payload = body[5:] if dlms else body[3:]
    meaning = {
        "c": body[0], "a": body[1], "ci": f"{ci:02X}",
        "stsap": body[3] if dlms else None, "dtsap": body[4] if dlms else None,
        "dlms_segment": (ci & 0x0F) if dlms else None,
        "last_segment": bool(ci & _MBUS_LAST_SEGMENT) if dlms else None,
        "checksum": f"{checksum:02X}", "checksum_valid": sum(body) & 0xFF == checksum,
        "information": payload.hex().upper(),
    }
    return data[pos:end], meaning, payload


def _hdlc_frames(data: bytes) -> tuple[list[tuple[int, int]], DecodeError | None]:
    """(start, end) of each frame of a capture (flags shared or doubled, each frame's
    end found from its format field's length: a 0x7E inside a frame is data), and
    what stopped the reading after at least one frame (trailing octets), if anything.
    Without a single frame the error is raised."""
    spans: list[tuple[int, int]] = []
    try:
        _read_hdlc_frames(data, spans)
    except DecodeError as exc:
        if not spans:
            raise
        # the rest starts after the last frame's closing flag
        return spans, DecodeError(f"after {len(spans)} frame(s): {exc.message}", spans[-1][1])
    return spans, None


def _read_hdlc_frames(data: bytes, spans: list[tuple[int, int]]) -> None:
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos] != hdlc.FLAG:
            raise DecodeError(f"expected the HDLC flag 0x7E, got 0x{data[pos]:02X}", pos)
        while pos + 1 < n and data[pos + 1] == hdlc.FLAG:
            pos += 1  # doubled (or shared) flags between frames
        if pos + 1 == n:
            if not spans:
                raise DecodeError("HDLC input is only flags", pos)
            break
        if pos + 3 > n:
            raise DecodeError("HDLC frame cut before its format field", pos + 1)
        length = (data[pos + 1] << 8 | data[pos + 2]) & 0x7FF
        end = pos + 1 + length
        if end >= n:
            raise DecodeError(f"HDLC frame of {length} octets (format field) but "
                              f"{n - pos - 2} follow its opening flag, without a closing "
                              "flag", pos + 1)
        if data[end] != hdlc.FLAG:
            raise DecodeError(f"HDLC frame length {length} (format field) does not end at "
                              f"a flag: 0x{data[end]:02X}", end)
        spans.append((pos, end + 1))
        pos = end
        if pos + 1 == n:
            break


def _detect(data: bytes) -> list[str]:
    """The kinds to try, likeliest first, from the first octets."""
    if data[0] == hdlc.FLAG:
        return ["hdlc", "axdr"]
    if data[0] == _MBUS_START and len(data) > 4 and data[3] == _MBUS_START:
        return ["mbus", "apdu", "axdr"]
    if data[:3] in _LLC_HEADERS:
        return ["apdu", "axdr"]
    if len(data) >= 8 and data[0] == 0 and data[1] == 1:
        return ["wrapper", "axdr", "apdu"]
    if data[0] in APDU_NAME:
        return ["apdu", "axdr"]
    return ["axdr", "apdu"]


class _PushReading:
    """The push decoder's reading of the whole input, made once and only when asked."""

    def __init__(self, data: bytes, keys: Keys, layouts: Any) -> None:
        self.data = data
        self.keys = keys
        self.layouts = layouts
        self._done = False
        self._notifications: list[Any] = []
        self.error: DlmsError | None = None

    def notifications(self) -> list[Any]:
        if not self._done:
            self._done = True
            self._read()
        return self._notifications

    def _read(self) -> None:
        from ..push import PushKeys, readings_of

        keys = self.keys
        push_keys = None
        if keys.encryption_key is not None:
            # --ek is the dedicated key of ded- APDUs too, as the walk takes it
            push_keys = PushKeys(ek=keys.encryption_key, ak=keys.authentication_key,
                                 dk=keys.encryption_key, system_title=keys.system_title)
        try:
            self._notifications = readings_of(
                self.data, keys=push_keys, layouts=self.layouts,
                # with an AK the tag is always checked; without one, only the
                # explicit option deciphers (marked unauthenticated)
                verify_tag=keys.check_tag or keys.authentication_key is not None)
        except DlmsError as exc:
            self.error = exc


def translate(data: bytes, kind: str | None = None, keys: Keys | None = None, *,
              explain: bool = False, layouts: Any = None) -> Decoded:
    """Decode ``data`` as ``kind`` (or detect it) into nodes; see the module docstring.

    ``layouts``: the list layouts for pushed data (a folder of the user's, tried
    before the built-in ones, or Layout objects), as :class:`dlmsfast.push.PushDecoder`
    takes them."""
    if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
        raise UsageError(f"unknown kind {shown(kind)}; one of {', '.join(KINDS)}")
    data = as_bytes(data, "the input")
    if not data:
        raise UsageError("nothing to decode: the input is empty")
    keys = keys if keys is not None else Keys()
    require(keys, Keys, "keys")
    candidates = [kind] if kind else _detect(data)
    push = _PushReading(data, keys, layouts)
    first: DecodeError | None = None
    for candidate in candidates:
        # each reading starts afresh: nothing learnt by a wrong one carries over
        translation = _Translation(keys, explain)
        try:
            if candidate == "apdu":
                nodes = [translation.top_apdu(data, push)]
            else:
                nodes = getattr(translation, candidate)(data)
        except DecodeError as exc:
            if first is None:
                first = exc
            continue
        if candidate == "axdr" and first is not None and data[0] in APDU_NAME:
            # the octet that starts this value is also an APDU tag: say why the
            # APDU reading, tried first, was not taken
            nodes[0]["notes"].append(
                f"0x{data[0]:02X} is also the tag of {APDU_NAME[data[0]]}, read first; as "
                f"that APDU: {first.message} (offset {first.offset})")
        # blocks not joined into their APDU (some missing) may carry a push
        blocks_open = translation.unjoined_blocks > 0
        decoded = Decoded(candidate, nodes, list(translation.walks),
                          push_known=translation.push_like or blocks_open)
        if (translation.push_like or translation.push_unopened or blocks_open) \
                and candidate != "axdr":
            from ..push import NoLayoutError  # as _PushReading imports push: when needed

            decoded.notifications = push.notifications()
            error = push.error
            decoded.notification_error = error
            # a ciphered push without its keys, or a list no layout names: the
            # structure is all there is to show, and it decoded
            decoded.notification_error_counts = not (
                (isinstance(error, SecurityError) and keys.encryption_key is None)
                or isinstance(error, NoLayoutError))
            _mark_covered(decoded)
        return decoded
    assert first is not None
    if kind is None:
        others = [k for k in KINDS if k != candidates[0]]
        raise DecodeError(f"read as {candidates[0]}: {first.message} (if it is not "
                          f"{_a(candidates[0])}, force the kind with --as "
                          f"{'/'.join(others)}, kind= in Python)", first.offset)
    raise first


def _mark_covered(decoded: Decoded) -> None:
    """A node the generic decoder refused that the push decoder read (a meter's
    quirk, e.g. a list of descriptors without A-XDR types): said in its notes."""
    covered = {n.apdu.hex().upper() for n in decoded.notifications if n.apdu}
    for item in walk_nodes(decoded.nodes):
        if item["kind"] == "undecoded" and item["hex"] in covered:
            item["notes"].append("read by the push decoder, which knows this meter's "
                                 "quirk: see the readings")


def walk_nodes(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every node of a tree and the nodes inside them (content), in no set order."""
    stack = list(nodes)
    while stack:
        item = stack.pop()
        yield item
        if item["content"] is not None:
            stack.append(item["content"])


def _a(kind: str) -> str:
    return {"hdlc": "an HDLC frame", "mbus": "an M-Bus long frame", "wrapper": "a wrapper frame", "apdu": "an APDU",
            "axdr": "an A-XDR value"}[kind]


def problems(decoded: Decoded) -> tuple[int, int, int]:
    """(undecodable parts, failed tag checks, refused downgrades) anywhere in the nodes.
    A node the push decoder read (a meter's quirk) does not count as undecodable."""
    undecoded = failed = refused = 0
    covered = {n.apdu.hex().upper() for n in decoded.notifications if n.apdu}
    for item in walk_nodes(decoded.nodes):
        if item["error"] is not None and item["hex"] not in covered:
            undecoded += 1
        if item["meaning"] and isinstance(item["meaning"], dict) and (
                item["meaning"].get("fcs_valid") is False
                or item["meaning"].get("checksum_valid") is False):
            undecoded += 1
        walk = item["deciphering"]
        if walk is not None and walk["tag_ok"] is False:
            failed += 1
        if walk is not None and walk["refused"]:
            refused += 1
    return undecoded, failed, refused


__all__ = ["Decoded", "KINDS", "Keys", "input_octets", "node", "parse_hex", "problems",
           "translate", "walk_nodes"]
