"""Command line: ``dlmsfast decode``, ``dlmsfast encrypt`` and ``dlmsfast listen``.

Bad input never shows a traceback: it prints one line naming what is wrong (and,
for malformed bytes, the byte offset) and exits with status 2. Keys given on the
command line are used, never echoed.
"""
from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import listen
from ..errors import DlmsError, SecurityError, UsageError


def _hex_arg(what: str):
    def convert(text: str) -> bytes:
        from ..explain import parse_hex

        try:
            return parse_hex(text, what)
        except DlmsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = what
    return convert


def _number(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (decimal or 0x-hex)") from None


def _read_input(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ek", type=_hex_arg("--ek"), metavar="KEY",
                        help="block cipher key (global unicast, or the dedicated key for ded- APDUs)")
    parser.add_argument("--ak", type=_hex_arg("--ak"), metavar="KEY", help="authentication key")
    parser.add_argument("--system-title", type=_hex_arg("--system-title"), metavar="TITLE",
                        help="the sender's system title (8 octets), when the APDU does not carry it")


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line and status 2, like malformed input."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dlmsfast", description="DLMS/COSEM (IEC 62056) toolkit with a compiled core."
    )
    parser.add_argument("--version", action="version", version=f"dlmsfast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    dec = sub.add_parser(
        "decode",
        help="explain an HDLC frame, wrapper frame, APDU or A-XDR value",
        description="Decode HEX (or - for standard input) into a readable tree.",
    )
    dec.add_argument("hex", help="the bytes in hex (spaces and colons allowed), or - for stdin")
    dec.add_argument("--as", dest="kind", choices=("axdr", "hdlc", "wrapper", "apdu"),
                     help="force the kind instead of detecting it")
    dec.add_argument("--json", action="store_true", help="print JSON for machines")
    dec.add_argument("--explain", action="store_true",
                     help="show each step of the deciphering (needs --ek/--ak)")
    _add_key_options(dec)

    enc = sub.add_parser(
        "encrypt",
        help="cipher a plaintext APDU",
        description="Cipher PLAINTEXT_APDU_HEX and print the ciphered APDU as one line of hex.",
    )
    enc.add_argument("plaintext", help="the plaintext APDU in hex, or - for stdin")
    _add_key_options(enc)
    enc.add_argument("--ic", type=_number, required=True, help="invocation counter")
    enc.add_argument("--sc", type=_number, default=0x30,
                     help="security control byte (default 0x30: authenticated and encrypted)")
    enc.add_argument("--form", choices=("glo", "ded", "general-glo", "general-ded"), default="glo")
    enc.add_argument("--explain", action="store_true", help="show each step of the ciphering")
    from . import read, simulate

    read.add_parser(sub)
    listen.add_parser(sub)
    simulate.add_parser(sub)
    return parser


def _cmd_decode(args: argparse.Namespace) -> int:
    from ..explain import Keys, parse_hex, tag_failures, to_json, to_text, translate

    data = parse_hex(_read_input(args.hex))
    decoded = translate(data, args.kind, Keys(args.ek, args.ak, args.system_title))
    if args.explain and not decoded.explain:
        raise UsageError("--explain shows the ciphering steps: give a ciphered APDU and --ek/--ak")
    failures = tag_failures(decoded.meaning)
    if args.explain:
        print("\n".join(decoded.explain))
    if failures:
        raise SecurityError("authentication tag mismatch: wrong key, system title, "
                            "or a corrupted APDU")
    print(to_json(decoded) if args.json else to_text(decoded))
    return 0


def _cmd_encrypt(args: argparse.Namespace) -> int:
    from ..explain import encrypt, parse_hex

    plaintext = parse_hex(_read_input(args.plaintext), "plaintext")
    data, steps = encrypt(
        plaintext, encryption_key=args.ek, authentication_key=args.ak,
        system_title=args.system_title, invocation_counter=args.ic,
        security_control=args.sc, form=args.form,
    )
    if args.explain:
        print("\n".join(steps))
        print(f"ciphered APDU      {data.hex().upper()}")
    else:
        print(data.hex().upper())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command in ("read", "simulate"):
        return args.run(args)
    try:
        if args.command == "decode":
            return _cmd_decode(args)
        if args.command == "listen":
            return listen.run(args)
        return _cmd_encrypt(args)
    except DlmsError as exc:
        print(f"dlmsfast {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
