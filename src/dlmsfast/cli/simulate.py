"""``dlmsfast simulate``: serve a fleet of simulated meters on loopback.

::

    dlmsfast simulate --meters 1000 --base-port 20000 --auth hls-gmac --security authenc \\
        --write-meters meters.csv --write-keys keys.toml --ready-file ready

Serves until SIGINT/SIGTERM or ``--duration`` seconds, then prints one line:
meters, associations served, seconds, associations per second (``--json``: the
same as one JSON object). ``--ready-file`` is written once every port
listens (after the meters and keys files). Exit status 0, or 2 for a usage
mistake or a port that cannot be opened.

Meters that push::

    dlmsfast simulate --meters 10 --push-to udp://127.0.0.1:4059 --push-interval 60 \
        --security authenc --write-push-keys push-keys.json

Every meter sends the data-notification of its Push Setup (0.0.25.9.0.255)
to that address every 60 s, the fleet's pushes spread over the minute; a
client calling the push method (ACTION 1) gets one push at once.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from typing import Optional

from ..errors import DlmsError, UsageError
from ..transport.loop import run as run_loop
from .bulk import _seconds
from .read import _instant, _number


def _latency(text: str) -> tuple[float, float]:
    from ..simulator.faults import parse_duration_range

    try:
        return parse_duration_range(text, "--latency")
    except UsageError as exc:  # argparse names the option itself
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--latency: ")) from None


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..simulator.fleet import AUTHS, FRAMINGS, REFERENCINGS, SECURITIES, TRANSPORTS

    p = subparsers.add_parser(
        "simulate", help="serve simulated meters on loopback (tests, demos, benchmarks)",
        description="Serve N simulated meters on 127.0.0.1: one TCP port per meter from "
                    "--base-port (or --devices-per-port logical devices behind each port).",
    )
    p.add_argument("--meters", type=_number, default=1, metavar="N",
                   help="meters in the fleet (default 1)")
    p.add_argument("--base-port", type=_number, default=4061, metavar="P",
                   help="port of meter 0 (default 4061); 0: any free ports (one process only)")
    p.add_argument("--devices-per-port", type=_number, default=1, metavar="D",
                   help="logical devices (server addresses 1..D) behind each port (default 1)")
    p.add_argument("--framing", choices=FRAMINGS, default="wrapper",
                   help="default wrapper; mixed: 12 ports of each in turn")
    p.add_argument("--auth", choices=AUTHS, default="none",
                   help="the meters' association: client 16 none, 17 LLS, 1 HLS "
                        "(2 for none with ciphering); mixed: none, lls, hls-gmac by "
                        "meter index mod 3")
    p.add_argument("--security", choices=SECURITIES, default="none",
                   help="security policy of that association; mixed: (index // 3) mod 4")
    p.add_argument("--transport", choices=TRANSPORTS, default="tcp",
                   help="tcp (default) or udp (the wrapper, one frame a datagram)")
    p.add_argument("--referencing", choices=REFERENCINGS, default="ln",
                   help="logical names (ln, default) or short names (sn: Association SN, "
                        "as older meters); mixed: (index // 24) mod 2")
    p.add_argument("--profile-rows", type=_number, default=96, metavar="R",
                   help="load profile depth (rows of 900 s; default 96)")
    p.add_argument("--latency", type=_latency, metavar="MS|MIN-MAX",
                   help="delay before every answer, in ms (or e.g. 0.1s, 100-300ms)")
    p.add_argument("--faults", default="", metavar="SPEC",
                   help='e.g. "silent:2%%,drop-mid-block:1%%,latency:100-300ms:5%%,'
                        'refuse-association@3"; kinds: latency, slow-drip, silent, '
                        "drop-mid-block, corrupt, wrong-tag, refuse-association, "
                        "exception-response")
    p.add_argument("--seed", type=_number, default=0,
                   help="chooses the faulty meters and the keys (default 0)")
    p.add_argument("--fixed-time", type=_instant, metavar="ISO",
                   help="every clock stays at this instant (reproducible readings)")
    p.add_argument("--local-time", action="store_true",
                   help="the meters' date-times (clock, profiles) carry no deviation "
                        "(not specified: a local time), as meters set to local time send them")
    p.add_argument("--max-pdu", type=_number, default=1024, metavar="N",
                   help="meters' max receive PDU size (default 1024)")
    p.add_argument("--hdlc-max-info", type=_number, default=128, metavar="N",
                   help="largest HDLC information field the meters grant, 32..2030 "
                        "(default 128)")
    p.add_argument("--hdlc-window", type=_number, default=1, metavar="N",
                   help="HDLC window (default 1)")
    p.add_argument("--no-general-protection", action="store_true",
                   help="do not offer general-protection (clients then use glo-ciphering)")
    p.add_argument("--write-meters", metavar="CSV",
                   help="write the meters file of dlmsfast bulk "
                        "(id,url,framing,client,server,auth,security,key_id,referencing)")
    p.add_argument("--write-keys", metavar="TOML",
                   help="write the keys file of dlmsfast bulk (one table per key id)")
    p.add_argument("--push-to", metavar="URL",
                   help="where the meters' Push Setup sends: udp://HOST:PORT or tcp://HOST:PORT "
                        "(the push method and --push-interval push there)")
    p.add_argument("--push-interval", type=float, metavar="S",
                   help="every meter pushes every S seconds, spread over the interval "
                        "(needs --push-to)")
    p.add_argument("--write-push-keys", metavar="JSON",
                   help="write the keys file of dlmsfast listen --keys-file (the ciphered "
                        "meters' EK and AK by system title)")
    p.add_argument("--ready-file", metavar="F", help="written once every port listens")
    p.add_argument("--duration", type=_seconds, metavar="S",
                   help="stop after S seconds (a positive number)")
    p.add_argument("--idle-timeout", type=float, default=120.0, metavar="S",
                   help="close a connection that brings nothing for S seconds (default 120)")
    p.add_argument("--workers", type=_number, default=1, metavar="W",
                   help="serve the fleet from W processes (contiguous slices; default 1)")
    p.add_argument("--json", action="store_true", help="the final line as JSON")
    p.set_defaults(run=run)
    return p


def _config(args: argparse.Namespace):
    from ..simulator import FleetConfig

    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    return FleetConfig(
        meters=args.meters, base_port=args.base_port, framing=args.framing, auth=args.auth,
        security=args.security, devices_per_port=args.devices_per_port,
        profile_rows=args.profile_rows, latency=args.latency, faults=args.faults,
        seed=args.seed, fixed_time=args.fixed_time, max_pdu=args.max_pdu,
        hdlc_max_info=args.hdlc_max_info, hdlc_window=args.hdlc_window,
        general_protection=not args.no_general_protection, idle_timeout=args.idle_timeout,
        push_to=args.push_to, push_interval=args.push_interval, referencing=args.referencing,
        transport=args.transport, local_time=args.local_time)


def _ephemeral_overlap(config) -> Optional[str]:
    """A warning when the fleet's ports lie in the system's ephemeral range (the
    clients' own ports come from there: a busy port or a refused connection)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = (int(x) for x in handle.read().split())
    except (OSError, ValueError):
        return None
    first, last = config.base_port, config.base_port + config.ports - 1
    if not config.base_port or last < low or first > high:
        return None
    return (f"dlmsfast simulate: warning: ports {first}-{last} overlap the ephemeral range "
            f"{low}-{high}; choose a --base-port below {low - config.ports + 1}")


def _announce(config, ports: list[int]) -> None:
    where = (f"port {ports[0]}" if len(ports) == 1 else
             f"ports {ports[0]}-{ports[-1]}" if ports[-1] - ports[0] == len(ports) - 1
             else f"{len(ports)} ports")
    print(f"dlmsfast simulate: {config.meters} meters on {config.host} {where} "
          f"(framing {config.framing}, auth {config.auth}, security {config.security}"
          f"{', UDP' if config.transport == 'udp' else ''}"
          f"{', short names' if config.referencing == 'sn' else ''}"
          f"{', logical and short names' if config.referencing == 'mixed' else ''}"
          f"{', faults ' + config.faults if config.faults else ''}"
          f"{', pushing to ' + config.push_to if config.push_to else ''}"
          f"{f' every {config.push_interval:g} s' if config.push_interval else ''})",
          file=sys.stderr, flush=True)


def _write_ready(path: str) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as handle:
        handle.write(f"ready {os.getpid()}\n")
    os.replace(temporary, path)


def _write_files(args: argparse.Namespace, simulator) -> None:
    if args.write_meters:
        simulator.write_meters(args.write_meters)
    if args.write_keys:
        simulator.write_keys(args.write_keys)
    if args.write_push_keys:
        from ..simulator.push import write_push_keys

        write_push_keys(args.write_push_keys, simulator.specs, simulator.config.seed)


def _stop_event(duration: Optional[float]) -> asyncio.Event:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    return stop


async def _serve_alone(args: argparse.Namespace, config) -> int:
    from ..simulator import run_fleet

    def ready(simulator) -> None:
        _write_files(args, simulator)
        _announce(config, sorted(set(simulator.port_of.values())))
        if args.ready_file:
            _write_ready(args.ready_file)

    return await run_fleet(config, ready=ready, stop=_stop_event(args.duration))


def _worker(config, indexes, queue) -> None:
    """One process of ``--workers``: its slice of the fleet until SIGTERM."""
    from ..simulator import run_fleet

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, lambda: None)  # the parent decides
        return await run_fleet(config, indexes, ready=lambda _: queue.put(("ready", None)),
                               stop=stop)

    try:
        sessions = run_loop(main())
    except (DlmsError, OSError) as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("done", sessions))


def _serve_workers(args: argparse.Namespace, config) -> int:
    import multiprocessing

    from ..simulator import MeterSimulator, meter_specs

    if not config.base_port:
        raise UsageError("--workers needs a --base-port (the meters file names every port)")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = min(args.workers, config.ports)
    per_port = config.devices_per_port
    ports = config.ports
    processes = []
    for w in range(workers):
        first_port = ports * w // workers
        last_port = ports * (w + 1) // workers
        indexes = range(first_port * per_port, min(last_port * per_port, config.meters))
        process = context.Process(target=_worker, args=(config, indexes, queue), daemon=True)
        process.start()
        processes.append(process)
    stop = {"now": False}

    def on_signal(signum, frame) -> None:
        stop["now"] = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sessions = 0
    try:
        ready = 0
        while ready < workers and not stop["now"]:
            kind, value = queue.get()
            if kind == "error":
                raise OSError(value)
            ready += kind == "ready"
        if not stop["now"]:
            _write_files(args, MeterSimulator(config, ()))
            _announce(config, sorted({spec.port for spec in meter_specs(config)}))
            if args.ready_file:
                _write_ready(args.ready_file)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop["now"] and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        done = 0
        while done < len(processes):
            try:
                kind, value = queue.get(timeout=5)
            except Exception:
                break
            if kind == "done":
                sessions += value
                done += 1
        for process in processes:
            process.join(timeout=5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return sessions


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        config = _config(args)
        warning = _ephemeral_overlap(config)
        if warning:
            print(warning, file=sys.stderr)
        if args.workers > 1:
            sessions = _serve_workers(args, config)
        else:
            sessions = run_loop(_serve_alone(args, config))
    except DlmsError as exc:
        print(f"dlmsfast simulate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dlmsfast simulate: cannot serve: {exc}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - started
    summary = {"meters": args.meters, "sessions": sessions, "seconds": round(seconds, 3),
               "sessions_per_s": round(sessions / seconds, 1) if seconds else 0.0}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"dlmsfast simulate: {summary['meters']} meters, {sessions} sessions served in "
              f"{summary['seconds']} s ({summary['sessions_per_s']} sessions/s)")
    return 0


__all__ = ["add_parser", "run"]
