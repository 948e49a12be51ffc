"""``dlmsfast listen URL``: decode what meters push into readings, printed or stored.

Joins the three layers: :mod:`dlmsfast.transport.listen` receives octets,
:class:`dlmsfast.push.PushDecoder` (one per source) turns them into readings,
:class:`dlmsfast.bulk.store.Store` keeps them. Readings go to standard output
(a table, or ``--json`` lines), rejected frames to standard error, one line each.

Exit status, when the input ended or the listener was stopped (--count,
--idle-timeout, Ctrl-C, SIGTERM), says whether every push gave its readings,
as ``dlmsfast decode``'s does for one: 0 none was rejected; 4 some failed
their authentication tag check; else 5 some were refused for another security
reason (no key for the meter, a replayed invocation counter, less protection
than the keys imply); else 3 some did not decode (malformed, cut short).
2 is a usage error, 6 a transport failure: a serial device that disappears
ends the listener so, unless ``--reconnect`` asks to open it again (with
backoff; see :func:`dlmsfast.transport.listen.listen`).
A reading ``--store`` refuses because its key (meter, object, time) holds
another value is said on standard error (and as a ``"event": "conflict"``
line with ``--json``) and counted in the closing summary; it does not change
the exit status (the push itself decoded).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any, Optional, TextIO

from ..errors import SecurityError, TagError, UsageError
from . import EXIT_MALFORMED, EXIT_OK, EXIT_SECURITY, EXIT_TAG
from ._options import hex_option, key_option

_WARNING = ("warning: --no-tag-check: ciphered pushes are deciphered WITHOUT checking their "
            "authentication tag; their readings are marked unauthenticated\n")


def _zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {name!r} (e.g. Europe/Oslo)") from None


def _positive(kind):
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    convert.__name__ = kind.__name__
    return convert


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "listen",
        help="decode what meters push (HAN/P1 port, push socket, capture file) into readings",
        description="Listen on URL for pushed data-notifications and print or store their "
                    "readings. URL: serial:///dev/ttyUSB0?baud=2400[&parity=E], "
                    "tcp://HOST:PORT, udp://HOST:PORT, file:PATH, or - for standard input "
                    "(hex text or raw octets, read as they arrive).",
        epilog="exit status (when the input ends or the listener is stopped): 0 every push "
               "gave its readings, 2 usage, 3 some pushes did not decode, 4 some failed their "
               "authentication tag check, 5 some were refused otherwise (no key for the "
               "meter, a wrong key, replayed counter, less protection than the keys imply), "
               "6 transport (a serial device lost without --reconnect: restart the listener, "
               "or give --reconnect); of several, the first of 4, 5, 3. A reading --store "
               "refuses (another value stored under its meter, object and time) is said on "
               "stderr, as a JSON "
               "{\"event\": \"conflict\"} line with --json, and counted in the summary; it "
               "does not change the exit status",
    )
    parser.add_argument("url", help="where the pushes arrive")
    keys = parser.add_argument_group("keys (ciphered pushes)")
    keys.add_argument("--ek", type=key_option("--ek"), metavar="KEY",
                      help="encryption key (block cipher key); 16 octets (32 for suite 2)")
    keys.add_argument("--ak", type=key_option("--ak"), metavar="KEY",
                      help="authentication key: tags are checked whenever it is given")
    keys.add_argument("--system-title", type=hex_option("--system-title", 8), metavar="TITLE",
                      help="the meter's system title, for glo- APDUs that do not carry it")
    keys.add_argument("--keys-file", metavar="FILE",
                      help='JSON: {"SYSTEMTITLEHEX" or "*": {"ek": ..., "ak": ...}}')
    keys.add_argument("--no-tag-check", action="store_true",
                      help="decipher with the encryption key alone, WITHOUT checking "
                           "authentication tags (readings marked unauthenticated)")
    parser.add_argument("--timezone", type=_zone, metavar="ZONE",
                        help="the meters' local time zone (e.g. Europe/Oslo), for date-times "
                             "sent without a deviation (else they are shown, and stored, as "
                             "the local time they say, without an offset)")
    parser.add_argument("--layouts", metavar="DIR",
                        help="a folder of list layouts (*.json) tried before the built-in ones")
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true",
                     help="one JSON object per reading and line: meter (the meter's id, as the "
                          "table shows it: system title, else the serial number or logical "
                          "device name it pushed, else the id last pushed on the same stream "
                          "(serial port, connection, file; for a list without one, e.g. "
                          "Kaifa's list 1), else the sender: tcp:HOST or "
                          "udp:HOST without the port, serial:DEVICE, file:PATH or -), "
                          "system_title (hex, or "
                          "null when the push carries none), source (where it arrived: "
                          "tcp:HOST:PORT, udp:..., serial:..., file:... or -), object, value, "
                          "unit, scaled, timestamp, authenticated")
    out.add_argument("--store", metavar="DB", help="write the readings into this SQLite store")
    out.add_argument("--raw", metavar="FILE",
                     help="append every received frame to FILE as a line of hex "
                          "(a capture that file:FILE replays)")
    stop = parser.add_argument_group("stopping (a file, or - once its input ends, ends by itself)")
    stop.add_argument("--count", type=_positive(int), metavar="N",
                      help="stop after N notifications")
    stop.add_argument("--idle-timeout", type=_positive(float), metavar="SECONDS",
                      help="stop when nothing has arrived for SECONDS")
    stop.add_argument("--reconnect", action="store_true",
                      help="serial ports: when the device disappears (adapter unplugged) or "
                           "cannot be opened, open it again after 1 s, then 2, 4 ... up to "
                           "30 s, saying so on stderr, instead of ending with exit status 6")
    return parser


def _keys(args) -> Any:
    from ..push import PushKeys, load_keys_file

    if args.keys_file and (args.ek or args.ak):
        raise UsageError("give keys with --ek/--ak or with --keys-file, not both")
    if args.keys_file:
        return load_keys_file(args.keys_file)
    if args.ak and not args.ek:
        raise UsageError("--ak needs --ek")
    if not args.ek:
        return None
    return PushKeys(ek=args.ek, ak=args.ak, system_title=args.system_title)


def _tags_checkable(keys, args) -> None:
    """An EK without its AK cannot check tags: said in the command's own terms
    (the decoder would name its API's verify_tag)."""
    from ..push import keys_table

    if any(k.ak is None for k in keys_table(keys).values()):
        what, fix = ((f"the keys file {args.keys_file!r} gives a meter an EK without an AK",
                      'its "ak"') if args.keys_file else ("--ek without --ak", "--ak"))
        raise UsageError(f"{what} cannot check authentication tags: give {fix}, or "
                         "--no-tag-check to decipher without checking (readings are then "
                         "marked unauthenticated)")


class _Table:
    """The live table: one block per notification, readings aligned."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, meter: str, notification) -> None:
        from ..push.reading import iso_time

        when = iso_time(notification.date_time) or "-"
        auth = "authenticated" if notification.authenticated else "not authenticated"
        layout = f", layout {notification.layout}" if notification.layout else ""
        self.out.write(f"── {meter}  {when}  "
                       f"({len(notification.readings)} readings, {auth}{layout})\n")
        for reading in notification.readings:
            scaled = reading.to_json()["scaled"]
            unit = reading.unit or ""
            self.out.write(f"   {str(reading.object):<18} {str(scaled):>20} {unit:<6}\n")
        self.out.flush()


class _Listener:
    def __init__(self, args, out: TextIO, err: TextIO) -> None:
        from ..push import PushDecoder, load_layouts

        self.args = args
        self.out = out
        self.err = err
        self.keys = _keys(args)
        self.layouts = load_layouts(args.layouts)
        self.verify_tag = not args.no_tag_check
        if self.verify_tag:
            _tags_checkable(self.keys, args)
        # one decoder per source: TCP meters must not mix their octets
        self.decoder_for = lambda: PushDecoder(keys=self.keys, layouts=self.layouts,
                                               verify_tag=self.verify_tag, keep_raw=bool(args.raw),
                                               local_tz=args.timezone)
        # made once now, so that a key mistake stops the command before it listens
        self.decoder_for()
        self.decoders: dict[str, Any] = {}
        self.table = _Table(out)
        self.notifications = 0
        self.meter_of: dict[str, str] = {}
        """source (a stream) -> the meter id last pushed on it (see _meter)"""
        self.conflicts = 0
        """readings the store refused (another value under their key)"""
        self.rejected: dict[int, int] = {}
        """exit status -> how many pushes were rejected for it"""
        self.store: Any = None
        self.run_id: Optional[int] = None
        # source -> [session_id, octets received, rejected count, last error]
        self.sessions: dict[str, list] = {}
        self.raw: Any = None

    def open(self) -> None:
        if self.args.store:
            from ..bulk.store import Store

            self.store = Store(self.args.store)
            self.run_id = self.store.begin_run("listen", self.args.url)
        if self.args.raw:
            from ..transport.listen import CaptureWriter

            self.raw = CaptureWriter(self.args.raw)

    def close(self) -> None:
        for source in list(self.decoders):
            self._end(source)
        if self.store is not None:
            self.store.end_run(self.run_id)
            self.store.close()
        if self.raw is not None:
            self.raw.close()

    def received(self, chunk) -> bool:
        """Handle one chunk; False once --count notifications have arrived."""
        decoder = self.decoders.get(chunk.source)
        if decoder is None:
            decoder = self.decoders[chunk.source] = self.decoder_for()
            if self.store is not None:
                self.sessions[chunk.source] = [
                    self.store.begin_session(self.run_id, chunk.source), 0, 0, None]
        if self.store is not None:
            self.sessions[chunk.source][1] += len(chunk.data)
        if chunk.ended:
            return self._end(chunk.source)
        return self._events(chunk.source, decoder.feed_chunk(chunk.data, datagram=chunk.datagram))

    def _end(self, source: str) -> bool:
        decoder = self.decoders.pop(source, None)
        self.meter_of.pop(source, None)
        going = True
        if decoder is not None:
            going = self._events(source, decoder.finish())
            skipped = decoder.framer.discarded_bytes
            if skipped:
                # a stream resynchronises on the next frame; what it passed over is said once
                self.err.write(f"dlmsfast listen: {source}: skipped {skipped} octet(s) that "
                               "were not part of a frame (line noise, or pushes lost)\n")
            if self.store is not None:
                session, count, rejected, error = self.sessions.pop(source)
                # what could not be decoded is recorded with the session, not lost
                self.store.end_session(session, result="ok" if not rejected else f"rejected {rejected}",
                                       error=error, bytes=count, exchanges=decoder.notifications)
        return going

    def _events(self, source: str, events: list) -> bool:
        from ..bulk.store import StoredReading, now, stored_scaled, stored_time, stored_value
        from ..push import Notification

        for event in events:
            if not isinstance(event, Notification):
                status = _rejected_status(event.error)
                self.rejected[status] = self.rejected.get(status, 0) + 1
                self.err.write(f"dlmsfast listen: {source}: rejected: "
                               f"{type(event.error).__name__}: {event.error}\n")
                self._raw(event.frames)
                if source in self.sessions:
                    self.sessions[source][2] += 1
                    self.sessions[source][3] = event.error
                continue
            self.notifications += 1
            self._raw(event.frames)
            meter = self._meter(source, event)
            if self.args.json:
                # many meters may push to one port: each line says whose reading it is
                sender = {"meter": meter,
                          "system_title": None if event.system_title is None
                          else event.system_title.hex().upper(),
                          "source": source}
                for reading in event.readings:
                    self.out.write(json.dumps({**sender, **reading.to_json()}) + "\n")
                self.out.flush()
            elif not self.args.store or self.out.isatty():
                self.table.show(meter, event)
            if self.store is not None:
                received = now()
                self.store.add_readings(
                    StoredReading(
                        meter, str(r.object), r.attribute,
                        # one rule with bulk (store.stored_time): an instant in
                        # UTC, a local time sent without deviation as written
                        stored_time(r.timestamp) or received,
                        stored_value(r.value), r.unit, stored_scaled(r.scaled),
                        "authenticated" if r.authenticated else "unauthenticated")
                    for r in event.readings)
                self.store.flush()
                self._conflicts(source)
            if self.args.count and self.notifications >= self.args.count:
                return False
        return True

    def _meter(self, source: str, event) -> str:
        """The meter id of a notification: its own (system title, else the serial
        number or device name it pushed); else the one last pushed on the same
        stream (a Kaifa list 1 carries none, its lists 2 and 3 do: one HAN port,
        one TCP connection is one meter's; a host may be several meters', so
        another connection from it does not inherit the id); else the sender."""
        if event.meter_id:
            self.meter_of[source] = event.meter_id
            return event.meter_id
        return self.meter_of.get(source) or _sender(source)

    def _conflicts(self, source: str) -> None:
        """Say each reading the store refused: its key holds another value."""
        from ..bulk.store import CLOCK_HINT

        for conflict in self.store.last_conflicts:
            self.conflicts += 1
            self.err.write(f"dlmsfast listen: {source}: meter {conflict.meter_id}: reading not "
                           f"stored, another value is stored under its key (kept): {conflict}; "
                           f"{CLOCK_HINT}\n")
            if self.args.json:
                self.out.write(json.dumps({
                    "event": "conflict", "meter": conflict.meter_id, "source": source,
                    "object": conflict.object, "attribute": conflict.attribute,
                    "timestamp": conflict.capture_time, "value": conflict.value,
                    "stored": conflict.stored}, default=str) + "\n")
                self.out.flush()

    def status(self) -> int:
        """The exit status of the run (the module docstring)."""
        for status in (EXIT_TAG, EXIT_SECURITY, EXIT_MALFORMED):
            if status in self.rejected:
                return status
        return EXIT_OK

    def _raw(self, frames) -> None:
        if self.raw is not None and frames:
            self.raw.write(frames)


def _sender(source: str) -> str:
    """Where a push came from, stable across connections: a TCP or UDP peer's
    host without its (ephemeral) port; a device, file or - as it is."""
    if source.startswith(("tcp:", "udp:")):
        return source.rsplit(":", 1)[0]
    return source


def _rejected_status(error: BaseException) -> int:
    if isinstance(error, TagError):
        return EXIT_TAG
    if isinstance(error, SecurityError):
        return EXIT_SECURITY
    return EXIT_MALFORMED


def _lost(err: TextIO, url, error: Exception, delay: float) -> None:
    err.write(f"dlmsfast listen: {url}: {type(error).__name__}: {error}; opening it again in "
              f"{delay:g} s\n")
    err.flush()


def _ready(err: TextIO, where: str) -> None:
    err.write(f"dlmsfast listen: listening on {where}\n")
    err.flush()


def run(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    from ..transport.listen import listen, parse_url

    out = out or sys.stdout
    err = err or sys.stderr
    url = parse_url(args.url)
    listener = _Listener(args, out, err)
    if args.no_tag_check:
        err.write(_WARNING)
    stop = threading.Event()
    listener.open()
    previous = _stop_on_sigterm()
    try:
        for chunk in listen(url, stop=stop, idle_timeout=args.idle_timeout, on_ready=None
                            if url.scheme == "file" else lambda where: _ready(err, where),
                            reconnect=args.reconnect,
                            on_lost=lambda error, delay: _lost(err, url, error, delay)):
            if not listener.received(chunk):
                stop.set()
                break
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        listener.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    status = listener.status()
    if listener.conflicts:
        err.write(f"dlmsfast listen: {listener.conflicts} reading(s) not stored: another value "
                  "is stored under the same meter, object and time (the stored ones kept)\n")
    if status != EXIT_OK:
        counts = ", ".join(f"{count} {_REJECTED[code]}"
                           for code, count in sorted(listener.rejected.items()))
        err.write(f"dlmsfast listen: {sum(listener.rejected.values())} push(es) rejected: "
                  f"{counts}; exit status {status}\n")
    return status


_REJECTED = {EXIT_TAG: "failed the tag check",
             EXIT_SECURITY: "refused (no key, a wrong key, replayed counter or less protection)",
             EXIT_MALFORMED: "did not decode"}


class _Stopped(Exception):
    """SIGTERM: end like the input did (sessions and run closed in the store)."""


def _stop_on_sigterm():
    if threading.current_thread() is not threading.main_thread():
        return None

    def stopped(signum, frame):
        raise _Stopped()

    return signal.signal(signal.SIGTERM, stopped)


__all__ = ["add_parser", "run"]
