"""``dlmsfast bulk METERS.csv --keys KEYS --store readings.db``: read a fleet into the store.

::

    dlmsfast bulk meters.csv --keys keys.toml --store readings.db [--plan plan.toml]
        [--resume] [--concurrency N] [--workers N] [--json]
        [--invocation-counter store|meter|meter-always]
    dlmsfast bulk --simulate 1000        # a simulated fleet, in its own process

Progress goes to standard error: a live bar on a terminal (rich), a plain line
every few seconds otherwise. At the end a summary table (standard output, or
standard error with ``--json``, which prints one JSON object on standard
output). Exit status 0 when every meter was read, 1 when some failed, 2 for
usage mistakes (files, options, keys).

rich draws both the live bar and the summary table (a terminal-aware table
library and a progress bar in one well-kept dependency).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, DlmsError, UsageError


def _at_least(minimum: int):
    """An argparse type: an integer (``0x`` allowed) of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive = _at_least(1)


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type; ``dlmsfast simulate`` too)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "bulk", help="read many meters concurrently into a SQLite store",
        description="Read every meter of METERS.csv (columns id,url,framing,client,server,"
                    "auth,security,key_id,referencing; '#' lines are comments) into the "
                    "store, resumable, on every core. The meters, keys and plan files are "
                    "checked whole before the first session (exit 2 naming file, line and "
                    "column). The file formats: README.md, 'The input files'.")
    p.add_argument("meters", nargs="?", help="the meters file (CSV, UTF-8): id,url[,framing,"
                   "client,server,auth,security,key_id,referencing]")
    p.add_argument("--keys", metavar="KEYS.toml", help="keys by key id (ek, ak: 32 hex digits; "
                   "system_title: 16; password; invocation_counter: the first IC for a meter "
                   "the store has none for); never logged or stored")
    p.add_argument("--store", default="readings.db", metavar="DB",
                   help="the SQLite store (default readings.db)")
    p.add_argument("--simulate", type=_positive, metavar="N",
                   help="read N simulated meters (HLS-GMAC, authenticated encryption), "
                        "served by `dlmsfast simulate` in its own process")
    p.add_argument("--sim-arg", action="append", default=[], metavar="ARG",
                   help="one more option for the simulator (repeat), e.g. --sim-arg=--latency=100")
    p.add_argument("--resume", action="store_true",
                   help="continue the store's last bulk run: read only the meters (and "
                        "profile rows) still missing")
    plan = p.add_argument_group("read plan (default: clock, 3 registers, load profile "
                                "since the last reading)")
    plan.add_argument("--plan", metavar="PLAN.toml",
                      help="the plan as TOML: clock = true|false, sync_clock = SECONDS, "
                           "objects = [\"CLASS/OBIS[:ATTR]\", ...], [profile] object, "
                           "since = \"last\" or from/to (README.md, 'The read plan')")
    plan.add_argument("--object", action="append", default=None, metavar="CLASS/OBIS[:ATTR]",
                      help="read this attribute (repeat); replaces the default registers. "
                           "A profile buffer (7/OBIS:2) is stored as the load profile is, a "
                           "reading per cell at its row's time")
    plan.add_argument("--profile", metavar="OBIS", help="the load profile to read "
                      "(default 1.0.99.1.0.255; 'none' for none)")
    plan.add_argument("--from", dest="start", metavar="ISO", help="profile rows from (instead of "
                      "since the last reading)")
    plan.add_argument("--to", dest="end", metavar="ISO", help="profile rows to")
    plan.add_argument("--no-clock", action="store_true", help="do not read the clock")
    plan.add_argument("--sync-clock", type=_seconds, metavar="S",
                      help="set the meter's clock when it is more than S seconds off")
    engine = p.add_argument_group("engine")
    engine.add_argument("--concurrency", type=_positive, default=1000, metavar="N",
                        help="sessions at once per worker (default 1000)")
    engine.add_argument("--workers", type=_positive, metavar="N",
                        help="worker processes (default: one per core)")
    engine.add_argument("--timeout", type=_seconds, default=10.0, metavar="S",
                        help="seconds per answer, and to connect unless --connect-timeout "
                             "(default 10)")
    engine.add_argument("--connect-timeout", type=_seconds, metavar="S",
                        help="seconds to connect to a meter (default: --timeout)")
    engine.add_argument("--session-timeout", type=_seconds, default=120.0, metavar="S",
                        help="seconds for a whole session (default 120)")
    engine.add_argument("--retries", type=_at_least(0), default=2, metavar="N",
                        help="attempts after a transport failure (default 2); the waits "
                             "double from 0.5 s up to at most 60 s, each times a random "
                             "0.5..1.5")
    engine.add_argument("--invocation-counter", choices=("store", "meter", "meter-always"),
                        default="store",
                        help="first IC of a ciphered session: 'store' (the store's, else "
                             "keys.toml's invocation_counter, else 1; the default); 'meter': "
                             "for a meter the store has no counter for, read it first from "
                             "the meter (public client, 0.0.43.1.0.255), as `dlmsfast read "
                             "--invocation-counter meter` does; 'meter-always': before "
                             "every session")
    p.add_argument("--json", action="store_true",
                   help="at the end, one JSON object on standard output")
    p.set_defaults(run=run)
    return p


def _plan(args: argparse.Namespace):
    from ..bulk.inputs import ReadPlan

    if args.plan:
        if args.object or args.profile or args.start or args.end or args.no_clock \
                or args.sync_clock:
            raise UsageError("--plan or the plan options, not both")
        return ReadPlan.load(args.plan)
    data: dict[str, Any] = {"clock": not args.no_clock}
    if args.object is not None:
        data["objects"] = args.object
    if args.sync_clock is not None:
        data["sync_clock"] = args.sync_clock
    if args.profile and args.profile.lower() == "none":
        data["profile"] = False
    else:
        profile: dict[str, Any] = {}
        if args.profile:
            profile["object"] = args.profile
        if args.start:
            profile["from"] = args.start
        if args.end:
            profile["to"] = args.end
        if profile:
            data["profile"] = profile
    return ReadPlan.from_mapping(data)


class _Progress:
    """A rich bar on a terminal, else a plain line every few seconds (stderr)."""

    def __init__(self, total: int, live: bool) -> None:
        self.total = total
        self.started = time.monotonic()
        self.last_line = 0.0
        self.bar = None
        if live:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                       TextColumn, TimeRemainingColumn)
            from rich.console import Console

            self.bar = Progress(TextColumn("[bold]bulk"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("bulk", total=total, status="")
            self.bar.start()

    def __call__(self, done: int, failed: int, in_flight: int) -> None:
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        status = f"failed {failed}  in flight {in_flight}  {rate:,.0f} sessions/s"
        if self.bar is not None:
            self.bar.update(self.task, completed=done, status=status)
        elif time.monotonic() - self.last_line >= 5.0 or done == self.total:
            self.last_line = time.monotonic()
            print(f"dlmsfast bulk: {done}/{self.total} done, {status}", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _summary(summary, store: str, out) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"dlmsfast bulk: run {summary.run_id} into {store}", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_row("meters", f"{summary.meters:,}")
    if summary.skipped:
        table.add_row("  already read (resumed)", f"{summary.skipped:,}")
    table.add_row("succeeded", f"{summary.succeeded:,}")
    table.add_row("failed", f"{summary.failed:,}")
    for reason, count in sorted(summary.failures.items(), key=lambda item: -item[1]):
        table.add_row(f"  {reason}", f"{count:,}")
    # a resumed run: the meter counts are the run's, the readings this invocation's
    table.add_row("readings stored by this invocation" if summary.skipped else
                  "readings stored", f"{summary.readings:,}")
    table.add_row("seconds", f"{summary.seconds:.2f}")
    table.add_row("sessions/s", f"{summary.sessions_per_s:,.1f}")
    table.add_row("data received and sent", f"{summary.bytes / 1e6:,.2f} MB")
    table.add_row("peak RSS (reader)", f"{summary.peak_rss_bytes / 2**20:,.0f} MiB")
    Console(file=out).print(table)


class _Simulator:
    """``dlmsfast simulate`` in its own process, its files in a temporary folder."""

    def __init__(self, meters: int, extra: list[str]) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="dlmsfast-sim-")
        base = Path(self.folder.name)
        self.meters = base / "meters.csv"
        self.keys = base / "keys.toml"
        ready = base / "ready"
        command = [sys.executable, "-m", "dlmsfast", "simulate", "--meters", str(meters),
                   "--base-port", "0", "--auth", "hls-gmac", "--security", "authenc",
                   "--write-meters", str(self.meters), "--write-keys", str(self.keys),
                   "--ready-file", str(ready), *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60 + meters / 500
        while not ready.exists():
            if self.process.poll() is not None:
                error = self.process.stderr.read().strip() if self.process.stderr else ""
                self.folder.cleanup()
                raise ConfigurationError(f"the simulator did not start: {error}")
            if time.monotonic() > deadline:
                self.close()
                raise ConfigurationError("the simulator did not get ready within a minute")
            time.sleep(0.02)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.folder.cleanup()


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (DlmsError, OSError) as exc:
        print(f"dlmsfast bulk: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlmsfast bulk: interrupted; committed readings are kept (--resume continues)",
              file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from ..bulk.engine import EngineSettings, raise_file_limit, run_bulk
    from ..bulk.inputs import KeyRing, read_meters

    if args.simulate is None and not args.meters:
        raise UsageError("give METERS.csv (with --keys), or --simulate N")
    if args.simulate is not None and (args.meters or args.keys):
        raise UsageError("--simulate writes its own meters and keys files")
    if args.sim_arg and args.simulate is None:
        raise UsageError("--sim-arg goes with --simulate")
    plan = _plan(args)
    settings = EngineSettings(concurrency=args.concurrency, timeout=args.timeout,
                              connect_timeout=args.connect_timeout,
                              session_timeout=args.session_timeout, retries=args.retries,
                              invocation_counter=args.invocation_counter)
    raise_file_limit()
    simulator = _Simulator(args.simulate, args.sim_arg) if args.simulate is not None else None
    try:
        meters_path = simulator.meters if simulator else args.meters
        keys_path = simulator.keys if simulator else args.keys
        meters = read_meters(meters_path)
        keys = KeyRing.load(keys_path) if keys_path else KeyRing()
        progress = _Progress(len(meters), sys.stderr.isatty())
        try:
            summary = run_bulk(meters, keys, plan, args.store, settings=settings,
                               workers=args.workers, resume=args.resume, progress=progress,
                               note=os.path.basename(str(meters_path)) if not simulator
                               else f"simulated fleet of {args.simulate}")
        finally:
            progress.close()
    finally:
        if simulator is not None:
            simulator.close()
    if args.json:
        _summary(summary, args.store, sys.stderr)
        print(json.dumps(summary.to_json()), flush=True)
    else:
        _summary(summary, args.store, sys.stdout)
    return 1 if summary.failed else 0


__all__ = ["add_parser", "run"]
