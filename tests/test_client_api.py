"""The client's public face without a meter: lazy export, options checked before
anything is sent, OBJECT parsing, secrets never shown."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import PACKAGE_PARENT, mypy_environment

from dlmsfast import AsyncClient, Client
from dlmsfast.client.values import parse_target
from dlmsfast.errors import ConfigurationError, LocalError, UsageError

SRC = PACKAGE_PARENT  # the dlmsfast under test (src/ or site-packages)


def test_import_dlmsfast_stays_light():
    code = ("import sys, dlmsfast; assert 'asyncio' not in sys.modules, 'asyncio'; "
            "assert 'dlmsfast.client' not in sys.modules; dlmsfast.Client; "
            "assert 'dlmsfast.client' in sys.modules; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC)}, timeout=30)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("text, expected", [
    ("1.0.1.8.0.255", ("1.0.1.8.0.255", 2)),
    ("1.0.1.8.0.255:3", ("1.0.1.8.0.255", 3)),
    ("1-0:1.8.0*255", ("1.0.1.8.0.255", 2)),
    ("1-0:1.8.0*255:3", ("1.0.1.8.0.255", 3)),
    ("0.0.40.0.0.255:7", ("0.0.40.0.0.255", 7)),
])
def test_objects(text, expected):
    target = parse_target(text)
    assert (str(target.obis), target.attribute) == expected


@pytest.mark.parametrize("bad", ["1.0.1.8.0", "meter", "1.0.1.8.0.256:2", 5])
def test_bad_objects(bad):
    with pytest.raises(UsageError):
        parse_target(bad)


@pytest.mark.parametrize("options, error", [
    ({"security": "authenc"}, ConfigurationError),                      # no keys
    ({"auth": "lls"}, ConfigurationError),                              # no password
    ({"auth": "hls-gmac", "ek": "00" * 16}, LocalError),                # no ak
    ({"security": "authenc", "ek": "00" * 15, "ak": "00" * 16}, ConfigurationError),
    ({"security": "authenc", "ek": "zz" * 16, "ak": "00" * 16}, UsageError),
    ({"system_title": "0011"}, ConfigurationError),
    ({"invocation_counter": -1}, UsageError),
    ({"auth": "hls-shake"}, UsageError),
])
def test_options_checked_before_connecting(options, error):
    # nothing listens on port 1: the mistake is found before any connection
    with pytest.raises(error) as caught:
        AsyncClient("tcp://127.0.0.1:1", **options)
    assert "zz" * 16 not in str(caught.value)


def test_the_blocking_client_has_every_request_of_the_async_one():
    import inspect

    for name in ("close", "get", "get_many", "read", "read_many", "read_profile",
                 "object_list", "write", "call", "read_clock", "set_clock"):
        blocking = getattr(Client, name)
        assert blocking.__wrapped__ is getattr(AsyncClient, name)
        assert blocking.__doc__ == getattr(AsyncClient, name).__doc__
        # help() and type checkers see the same parameters
        assert inspect.signature(blocking) == inspect.signature(getattr(AsyncClient, name))
    # open gives the Client itself (AsyncClient.open the AsyncClient), with the same doc
    assert Client.open.__doc__ == AsyncClient.open.__doc__
    assert inspect.signature(Client.open).return_annotation in ("Client", "'Client'")


def test_a_client_after_its_with_block():
    import socket
    import threading

    from dlmsfast.errors import LocalProtocolError, TransportError

    # a meter that takes the connection and stays silent: the with block fails
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    threading.Thread(target=listener.accept, daemon=True).start()
    client = Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.2)
    try:
        # silent (TimeoutError) or closed by the GC'd accepted socket (ConnectionLost)
        with pytest.raises(TransportError):
            with client:
                pass
        with pytest.raises(LocalProtocolError, match="shut down"):
            client.read("1.0.1.8.0.255", class_id=3)
    finally:
        listener.close()


def test_a_type_checker_sees_the_blocking_clients_requests(tmp_path):
    # what a user's IDE or mypy sees through `from dlmsfast import Client` (a lazy
    # name at run time): each request's parameters and its result, not Any
    import os

    user = tmp_path / "user.py"
    user.write_text(
        "from dlmsfast import AsyncClient, Client\n"
        "with Client('tcp://127.0.0.1:4059') as meter:\n"
        "    reveal_type(meter)\n"
        "    reveal_type(meter.read('1.0.1.8.0.255'))\n"
        "    reveal_type(meter.read_profile('1.0.99.1.0.255', from_entry=1))\n"
        "    reveal_type(meter.read_many(['1.0.1.8.0.255']))\n"
        "    meter.read('1.0.1.8.0.255', attribute='two')\n"
        "Client('tcp://127.0.0.1:4059', sever=1)\n"
        "Client('tcp://127.0.0.1:4059', timeout='10')\n"
        "async def main() -> None:\n"
        "    async with AsyncClient('tcp://127.0.0.1:4059') as meter:\n"
        "        reveal_type(await meter.read_clock())\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         "--config-file", os.devnull, str(user)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=mypy_environment())
    lines = done.stdout.splitlines()
    revealed = [line.split("Revealed type is ", 1)[1] for line in lines if "Revealed type" in line]
    assert revealed == ['"dlmsfast.client.blocking.Client"', '"dlmsfast.client.values.Reading"',
                        '"dlmsfast.client.values.Profile"', '"list[Any]"', '"Any"'], lines
    # the wrong attribute is caught before the meter is asked
    assert any("user.py:7: error" in line and '"attribute"' in line for line in lines), lines
    # the Client's options are AsyncClient's, checked by name and type
    assert any("user.py:8: error" in line and '"sever"' in line for line in lines), lines
    assert any("user.py:9: error" in line and '"timeout"' in line for line in lines), lines


def test_help_shows_the_blocking_clients_options():
    import inspect

    options = inspect.signature(Client).parameters
    assert list(options) == list(inspect.signature(AsyncClient).parameters)
    assert options["auth"].default == "none" and options["timeout"].default == 10.0
    assert "AsyncClient" in Client.__init__.__doc__
