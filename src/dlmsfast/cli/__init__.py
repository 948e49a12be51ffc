"""Command line: ``dlmsfast <subcommand> ...``, one module per subcommand.

A subcommand is a module of this package with two functions,
``add_parser(subparsers) -> ArgumentParser`` (it adds its own subparser, named
after the module) and ``run(args) -> int``, listed in :data:`SUBCOMMANDS`:
adding ``bulk``, ``simulate`` or ``export`` is one module and one word there.
:func:`main` builds the parser from them and turns every outcome into one of
the documented exit statuses:

    0    done
    1    an internal error (a bug: please report it; no traceback is shown);
         for ``bulk``, also: some meters failed (each recorded with its reason)
    2    usage: a wrong option, hex that is not hex, a missing or unusable key
         (UsageError, ConfigurationError)
    3    malformed input: bytes that do not decode (DecodeError, ProtocolError),
         or decoded output that contains an undecodable part or a bad FCS
    4    failed authentication tag check (TagError, or a MISMATCH in the output)
    5    other security refusals: replayed counter, less protection than the
         policy requires, failed HLS (ReplayError, PolicyError, AuthenticationError)
    6    transport: the connection failed or timed out (TransportError)
    130  interrupted (Ctrl-C)

Statuses 3-6 are those of decode, encrypt, listen, simulate and export. ``read``
keeps its own contract: 0 every object read, 1 some object failed, 2 usage or
no association (whatever failed: transport, security...). ``bulk`` has its own
too (``bulk.EXIT_STATUSES``: 3 there is a store failure).

Errors go to standard error as one line, or, under ``decode --json`` and
``encrypt --json``, as one JSON document (``kind: "error"``) on standard output,
so that standard output holds nothing but JSON. Keys given on the command line are used, never echoed,
except inside the AAD step of ``--explain``, which says so.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from .. import __version__
from ..errors import (
    ConfigurationError,
    DlmsError,
    LocalError,
    SecurityError,
    TagError,
    TransportError,
)

SUBCOMMANDS = ("decode", "encrypt", "read", "listen", "simulate", "bulk", "export")
"""The modules of dlmsfast.cli that make the subcommands (module name = command
name), in help order."""

JSON_ERRORS = ("decode", "encrypt")
"""The subcommands whose --json output is one document, so that their errors are
JSON too (listen and read print a stream of records, their errors go to stderr)."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_MALFORMED = 3
EXIT_TAG = 4
EXIT_SECURITY = 5
EXIT_TRANSPORT = 6
EXIT_INTERRUPTED = 130


def exit_status(error: BaseException) -> int:
    """The documented exit status of an error."""
    if isinstance(error, (LocalError, ConfigurationError)):
        return EXIT_USAGE
    if isinstance(error, TagError):
        return EXIT_TAG
    if isinstance(error, SecurityError):
        return EXIT_SECURITY
    if isinstance(error, TransportError):
        return EXIT_TRANSPORT
    if isinstance(error, DlmsError):
        return EXIT_MALFORMED
    return EXIT_INTERNAL


class UsageFailure(Exception):
    """An argparse error, carried to main() so that it can be reported as JSON."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end in one line (or JSON) and status 2, never a traceback."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageFailure(f"{self.prog}: {message} (see {self.prog} --help)")


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    parser = _Parser(prog="dlmsfast",
                     description="DLMS/COSEM (IEC 62056) toolkit with a compiled core.",
                     epilog="exit status: 0 done, 1 internal error, 2 usage, 3 malformed "
                            "input, 4 failed tag check, 5 other security refusal, "
                            "6 transport, 130 interrupted. Statuses 3-6 are decode's, "
                            "encrypt's, listen's, simulate's and export's; read uses only "
                            "0 all read, 1 some object failed, 2 usage or no association "
                            "(whatever its cause); bulk uses 0 all read, 1 some meters "
                            "failed, 2 usage, 3 the store failed, 130/143 interrupted "
                            "(see each command's --help)")
    parser.add_argument("--version", action="version", version=f"dlmsfast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="COMMAND")
    modules = {}
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.add_parser(sub)
        modules[name] = module
    return parser, modules


def _report(error: BaseException, command: str, as_json: bool, status: int) -> int:
    if as_json:
        from ..explain import error_document
        from ..explain.render import write_json

        write_json(error_document(command, error, status), sys.stdout)
        sys.stdout.flush()
    else:
        name = type(error).__name__
        message = str(error)
        if isinstance(error, UsageFailure):
            print(message, file=sys.stderr)
        else:
            print(f"dlmsfast {command}: {name}: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if a in SUBCOMMANDS), "dlmsfast")
    as_json = _wants_json(argv) and command in JSON_ERRORS
    try:
        parser, modules = build_parser()
        try:
            args = parser.parse_args(argv)
        except UsageFailure as failure:
            return _report(failure, command, as_json, EXIT_USAGE)
        return modules[args.command].run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): nothing more to say to it.
        try:
            sys.stdout = open("/dev/null", "w")  # noqa: SIM115  (silence the flush at exit)
        except OSError:
            pass
        return EXIT_OK
    except DlmsError as error:
        return _report(error, command, as_json, exit_status(error))
    except Exception as error:  # noqa: BLE001  (a bug must still end in one line, not a traceback)
        return _report(error, command, as_json, EXIT_INTERNAL)


__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_MALFORMED", "EXIT_OK", "EXIT_SECURITY",
           "EXIT_TAG", "EXIT_TRANSPORT", "EXIT_USAGE", "SUBCOMMANDS", "exit_status", "main"]
