"""``dlmsfast encrypt``: cipher a plaintext APDU (glo, ded, general-glo,
general-ded, general-ciphering), with ``--explain`` showing how, step by step."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..security.context import FORMS
from . import EXIT_OK
from ._options import add_input_argument, add_key_options, number, read_input

NAME = "encrypt"
HELP = "cipher a plaintext APDU"
DESCRIPTION = """\
Cipher the plaintext APDU INPUT and print the ciphered APDU as one line of hex
(or JSON with --json). --explain shows each step of the construction in order:
SC, IC, system title, IV, key, AAD, AES-GCM, tag, and the APDU layout."""

def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_argument(parser, "the plaintext APDU")
    required = parser.add_argument_group("required")
    add_key_options(parser, required)
    required.add_argument("--ic", type=number, required=True, metavar="N",
                          help="the invocation counter of this APDU (decimal or 0x-hex)")
    parser.add_argument("--sc", type=number, default=0x30, metavar="OCTET",
                        help="the security control byte (default 0x30: authenticated and "
                             "encrypted, suite 0)")
    parser.add_argument("--form", choices=FORMS, default="glo",
                        help="which ciphered APDU to build: glo- or ded- service-specific "
                             "(tag from the plaintext's), general-glo-, general-ded- or "
                             "general-ciphering (default glo)")
    parser.add_argument("--explain", action="store_true",
                        help="show each step of the ciphering, with the bytes")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (and nothing else) on standard output")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..explain import SCHEMA_VERSION, encrypt, walk_lines
    from ..explain.render import write_json, write_text

    plaintext = read_input(args.input, "the plaintext APDU")
    data, walk = encrypt(plaintext, encryption_key=args.ek, authentication_key=args.ak,
                         system_title=args.system_title, invocation_counter=args.ic,
                         security_control=args.sc, form=args.form)
    if args.json:
        write_json({"kind": "encrypt", "schema_version": SCHEMA_VERSION, "nodes": [],
                    "notifications": [], "notification_error": None,
                    "ciphered": data.hex().upper(), "ciphering": walk.to_meaning(show_keys=args.explain),
                    "error": None, "exit_status": EXIT_OK}, sys.stdout)
    elif args.explain:
        write_text(walk_lines(walk.to_meaning(show_keys=True)), sys.stdout)
        print(f"ciphered APDU: {data.hex().upper()}")
    else:
        print(data.hex().upper())
    return EXIT_OK
