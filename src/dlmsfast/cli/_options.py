"""What several subcommands share: reading the input (hex, a file, binary, stdin)
and the key options."""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from ..errors import DlmsError, UsageError


# a name.ext that is no hex: what a file name given as INPUT looks like
_FILE_NAME = re.compile(r"\.[A-Za-z][A-Za-z0-9]*$")

KEY_LENGTHS = (16, 32)
"""The octets of a key: AES-128 (security suites 0 and 1) or AES-256 (suite 2)."""


def hex_option(what: str, length: int | tuple[int, ...] | None = None):
    """An argparse type: hex text (any separators) of ``length`` octets (or one
    of several lengths). A mistake is one line that never repeats the text (it
    may be a key)."""
    lengths = (length,) if isinstance(length, int) else length

    def convert(text: str) -> bytes:
        from ..explain import parse_hex

        try:
            value = parse_hex(text, what)
        except DlmsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if lengths is not None and len(value) not in lengths:
            raise argparse.ArgumentTypeError(
                f"{what} must be {octets_wanted(lengths)}, got {len(value)}")
        return value

    convert.__name__ = what
    return convert


def octets_wanted(lengths: tuple[int, ...]) -> str:
    """"16 octets (32 hex digits) or 32 octets (64 hex digits)", for messages."""
    return " or ".join(f"{n} octets ({2 * n} hex digits)" for n in lengths)


def key_option(what: str):
    """An argparse type for a key (--ek, --ak): hex of 16 or 32 octets, checked
    when the options are read, so that a key cut short stops the command."""
    return hex_option(what, KEY_LENGTHS)


def number(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (decimal or 0x-hex)") \
            from None


def add_input_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "input", metavar="INPUT", nargs="?", default=None,
        help=f"{what}: hex (spaces, colons and line breaks allowed), a file holding hex or "
             "binary octets, or - (or nothing, when piped) to read standard input")


def read_input(argument: str | None, what: str) -> bytes:
    """The octets of INPUT: '-' or none (stdin), an existing file, else hex text."""
    from ..explain import parse_hex
    from ..explain.translator import input_octets

    if argument is None or argument == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError(
                f"{what} is read from standard input, which is a terminal here: pipe "
                "something in (e.g. `cat capture.bin | dlmsfast decode -`), or give the hex "
                "or a file name as the argument")
        return input_octets(sys.stdin.buffer.read(), what)
    if os.path.isfile(argument):
        try:
            with open(argument, "rb") as handle:
                return input_octets(handle.read(), what)
        except OSError as exc:
            raise UsageError(f"{what}: cannot read {argument}: {exc.strerror or exc}") from None
    if os.path.isdir(argument):
        raise UsageError(f"{what}: {argument} is a directory (give a file, hex, or -)")
    try:
        return parse_hex(argument, what)
    except UsageError:
        # hex never holds a path separator, nor a name with an extension
        if os.sep in argument or "/" in argument or _FILE_NAME.search(argument):
            raise UsageError(f"{what}: no such file: {argument}") from None
        raise


def add_key_options(parser: argparse.ArgumentParser, required: Any = None) -> None:
    """--ek, --ak, --system-title; the first and the last go in ``required`` (a group
    of required options) when given, so that the help lists them as required."""
    group = parser.add_argument_group("keys (never printed, except in the AAD step of "
                                      "--explain)")
    needed = required if required is not None else group
    needed.add_argument("--ek", type=key_option("--ek"), metavar="KEY",
                       required=required is not None,
                       help="the encryption key: block cipher key (global unicast), or the "
                            "dedicated key for ded- APDUs; 16 octets (32 for suite 2)")
    group.add_argument("--ak", type=key_option("--ak"), metavar="KEY",
                       help="the authentication key; 16 octets (32 for suite 2)")
    needed.add_argument("--system-title", type=hex_option("--system-title", 8),
                       metavar="TITLE", required=required is not None,
                       help="the sender's system title, 8 octets (16 hex digits); "
                            "glo-/ded- APDUs do not carry it")
