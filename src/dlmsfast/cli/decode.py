"""``dlmsfast decode``: any HDLC frame(s), wrapper frame(s), APDU or A-XDR value
as a readable tree or as JSON (``dlmsfast/explain/schemas/decode.schema.json``)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import UsageError
from ..explain import KINDS
from . import EXIT_MALFORMED, EXIT_OK, EXIT_SECURITY, EXIT_TAG, EXIT_USAGE, exit_status
from ._options import add_input_argument, add_key_options, read_input

NAME = "decode"
HELP = "explain an HDLC frame, M-Bus frame, wrapper frame, APDU or A-XDR value"
DESCRIPTION = """\
Decode INPUT into a readable tree (or JSON with --json). The kind is detected
(HDLC frames, M-Bus long frames, wrapper frames, APDU, A-XDR value) unless --as
says it. A first octet that is an APDU tag is read as that APDU first, even
where it is also an A-XDR type tag (0501020108 is a short-name readRequest,
not a double-long); only if that fails is it read as an A-XDR value, with a
note (--as axdr forces the value). Segmented frames and general-block-transfer blocks are joined into
their APDU. A pushed data-notification (plain or ciphered) is also shown as
its readings (OBIS, value, scaled, unit, timestamp), read with the same list
layouts as `dlmsfast listen` (--layouts DIR adds yours).

With --ek/--ak (and --system-title for glo-/ded- APDUs) ciphered APDUs are
deciphered and their tag is checked; --explain shows every step of the
deciphering with the bytes (without keys: the structure, and what is needed).

--decipher-without-checking-the-tag (alias --no-tag-check, as in `listen`)
deciphers with the EK alone; everything it shows is marked UNAUTHENTICATED.

exit status: 0 done, 2 usage (also: a key that is not the length of the APDU's
security suite, or keys given but a ciphered APDU left closed for want of its
system title or another key), 3 malformed input or an undecodable part (also:
keys given but a ciphered APDU no key opens: unsupported suite, compression),
4 failed tag check, 5 an APDU with less protection than the keys given imply
(see dlmsfast --help)"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(NAME, help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_input_argument(parser, "the octets to decode")
    parser.add_argument("--as", dest="kind", choices=KINDS,
                        help="decode as this kind instead of detecting it")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (and nothing else) on standard output")
    parser.add_argument("--explain", action="store_true",
                        help="show each step of the deciphering, with the bytes")
    add_key_options(parser)
    parser.add_argument("--layouts", metavar="DIR",
                        help="a folder of list layouts (*.json) for pushed data, tried "
                             "before the built-in ones")
    parser.add_argument("--decipher-without-checking-the-tag", "--no-tag-check",
                        dest="unchecked",
                        action="store_true",
                        help="DANGEROUS: show the deciphered plaintext even when the tag "
                             "cannot be checked (no --ak) or does not match; the output is "
                             "marked UNAUTHENTICATED. For users given only the encryption "
                             "key (some HAN ports).")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..explain import Keys, document, translate
    from ..explain.render import node_lines, readings_lines, write_json, write_text
    from ..push import load_layouts
    from ..explain.translator import problems

    data = read_input(args.input, "the input")
    if not data:
        raise UsageError("nothing to decode: the input is empty")
    keys = Keys(args.ek, args.ak, args.system_title, check_tag=not args.unchecked)
    layouts = load_layouts(args.layouts) if args.layouts else None
    decoded = translate(data, args.kind, keys, explain=args.explain, layouts=layouts)
    undecoded, failed, refused = problems(decoded)
    push_error = decoded.notification_error
    push_status = exit_status(push_error) if push_error is not None and \
        decoded.notification_error_counts else EXIT_OK
    # a key of 16 or 32 octets passes the options; whether it fits the APDU's
    # security suite is known only here
    misfit = next((w.stopped for w in decoded.walks if w.key_misfit), None)
    # keys given, yet an APDU stayed closed: for want of what the walk names
    # (usage: the system title, the AK...), or for what no key opens (malformed)
    closed = [w for w in decoded.walks if keys and w.plaintext is None and not w.refused
              and not w.key_misfit and w.tag_ok is not False] if keys else []
    wanting = next((w for w in closed if w.needs), None)
    status = (EXIT_TAG if failed or push_status == EXIT_TAG else
              EXIT_SECURITY if refused or push_status == EXIT_SECURITY else
              EXIT_USAGE if misfit or wanting else
              EXIT_MALFORMED if undecoded or closed else push_status)
    if args.json:
        write_json(document(decoded, status), sys.stdout, size=len(data))
        return status
    out = sys.stdout
    out.write(f"{decoded.kind}: {len(decoded.nodes)} item(s), {len(data)} octets\n")
    for item in decoded.nodes:
        write_text(node_lines(item, "", explain=args.explain), out)
    for notification in decoded.notifications:
        write_text(readings_lines(notification.to_meaning()), out)
    if push_error is not None:
        what = ("the readings of the push cannot be shown" if decoded.push_known else
                "if the ciphered APDU that stayed closed carries a push, its readings "
                "cannot be shown either")
        print(f"dlmsfast decode: {what}: {type(push_error).__name__}: {push_error}",
              file=sys.stderr)
    if failed:
        print(f"dlmsfast decode: {failed} authentication tag(s) did not check: wrong key, "
              "AK or system title, or changed bytes; the plaintext is not shown",
              file=sys.stderr)
    elif refused:
        print("dlmsfast decode: an APDU has less protection than the keys given imply "
              "(a possible downgrade); its plaintext is not shown", file=sys.stderr)
    elif misfit:
        print(f"dlmsfast decode: {misfit}: give the key of that length", file=sys.stderr)
    elif closed:
        walk = wanting or closed[0]
        give = f": give {', '.join(walk.needs)}" if walk.needs else ""
        print(f"dlmsfast decode: {len(closed)} ciphered APDU(s) not deciphered although "
              f"keys were given: {walk.stopped}{give}", file=sys.stderr)
    elif undecoded:
        print(f"dlmsfast decode: {undecoded} part(s) could not be decoded or failed a "
              "check (see 'error' and 'note' above)", file=sys.stderr)
    return status
