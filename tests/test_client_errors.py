"""What users get wrong, against the gurux meter and against meters that misbehave
on loopback: each mistake is a distinct DlmsError subclass with a message that
says what to do, and the connection is closed each time (the gurux meter serves
one connection at a time, so a following successful read proves it)."""
from __future__ import annotations

import socket
import threading

import pytest

from dlmsfast import AsyncClient, Client
from dlmsfast.errors import (
    AssociationRejected,
    AuthenticationError,
    ConnectionLost,
    LocalProtocolError,
    TagError,
    TimeoutError,
)
from dlmsfast.session import AccessDenied, AuthenticationFailed, ObjectUndefined
from dlmsfast.wrapper import WrapperStreamSplitter

from interop import EK, AK, GuruxMeter, client_options


@pytest.fixture(scope="module")
def meter():
    m = GuruxMeter("--wrapper", "--auth", "all", "--security", "any", "--deterministic")
    yield m
    m.stop()


def still_serves(meter) -> None:
    """The meter takes a new connection: the failed one was closed."""
    with Client(meter.url, timeout=3) as c:
        assert c.read("0.0.42.0.0.255", class_id=1).value == b"MMM0000012345678"


def test_wrong_password(meter):
    with pytest.raises(AuthenticationFailed, match="authentication-failure"):
        Client(meter.url, client=17, auth="lls", password="wrong", timeout=3).open()
    still_serves(meter)


@pytest.mark.parametrize("wrong", ["ek", "ak"])
def test_wrong_key_is_a_tag_error(meter, wrong):
    options = client_options("hls-gmac", "authenc")
    options[wrong] = bytes(16)
    with pytest.raises(TagError, match="wrong ek/ak"):
        Client(meter.url, timeout=3, **options).open()
    still_serves(meter)


@pytest.mark.parametrize("wrong", ["ek", "ak"])
def test_hls_gmac_refused_f_stoc_names_the_keys_and_titles(meter, wrong):
    # no ciphering: only HLS pass 3 shows the wrong key, and the meter refuses f(StoC)
    options = client_options("hls-gmac", "none")
    options[wrong] = bytes.fromhex("AB" * 16)
    with pytest.raises(AuthenticationError) as caught:
        Client(meter.url, timeout=3, **options).open()
    message = str(caught.value)
    assert "refused our f(StoC)" in message
    assert "check ek, ak, our system title and the meter's" in message
    for key in (EK, AK, bytes.fromhex("AB" * 16)):
        assert key.hex() not in message.lower()
    still_serves(meter)


def test_wrong_client_address_is_rejected(meter):
    with pytest.raises(AssociationRejected) as caught:
        Client(meter.url, client=99, timeout=3).open()
    assert not isinstance(caught.value, AuthenticationFailed)
    still_serves(meter)


def test_wrong_server_address_times_out_naming_the_addresses(meter):
    with pytest.raises(TimeoutError, match="client wPort 16, server wPort 5") as caught:
        Client(meter.url, server=5, timeout=0.3).open()
    assert "wrong client/server address" in str(caught.value)
    still_serves(meter)


def test_unknown_object_and_access_denied_keep_the_association(meter):
    with Client(meter.url, timeout=3) as c:
        with pytest.raises(ObjectUndefined, match="9.9.9.9.9.9"):
            c.read("9.9.9.9.9.9", class_id=1)
        # without a class, the object list says it is not there
        with pytest.raises(ObjectUndefined, match="not in the meter's object list"):
            c.read("9.9.9.9.9.9")
        with pytest.raises(AccessDenied, match="read-write-denied"):
            c.read("0.0.40.0.0.255:7")
        readings = c.read_many(["9.9.9.9.9.9", "1.0.1.8.0.255"])
        assert isinstance(readings[0], ObjectUndefined)
        assert readings[1].value == 1960
    still_serves(meter)


def _silent_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    return listener, accepted


@pytest.mark.parametrize("ciphered", [False, True])
def test_silent_meter_times_out(ciphered):
    # a meter that cannot decipher the InitiateRequest often stays silent (the gurux
    # meter over HDLC does): after a ciphered AARQ the timeout suspects the keys too
    options = client_options("hls-gmac", "authenc") if ciphered else {}
    listener, accepted = _silent_server()
    try:
        port = listener.getsockname()[1]
        with pytest.raises(TimeoutError, match="did not answer the association request") as caught:
            Client(f"tcp://127.0.0.1:{port}", timeout=0.3, **options).open()
        message = str(caught.value)
        assert "wrong client/server address" in message
        assert ("AARQ was ciphered: wrong keys" in message) == ciphered
        assert EK.hex() not in message.lower()
        # the client closed its end: the meter side reads end-of-stream
        conn, _ = accepted[0]
        conn.settimeout(2)
        while conn.recv(4096):
            pass
        conn.close()
    finally:
        listener.close()


class _DroppingProxy:
    """Forwards to the meter and drops both connections right after the first
    get-response-with-datablock block (the middle of a block transfer)."""

    def __init__(self, meter_port: int) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.meter_port = meter_port
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        client, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.meter_port))

        def forward_requests():
            try:
                while data := client.recv(65536):
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward_requests, daemon=True).start()
        splitter = WrapperStreamSplitter()
        try:
            while data := upstream.recv(65536):
                for frame in splitter.feed(data):
                    client.sendall(frame.to_bytes())
                    if frame.payload[:2] == b"\xc4\x02":
                        return
        finally:
            # shutdown first: a plain close() leaves the connection open while
            # the other thread still sits in recv() on it
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


def test_connection_dropped_mid_block_transfer(meter):
    proxy = _DroppingProxy(meter.port)
    client = Client(f"tcp://127.0.0.1:{proxy.port}", timeout=3)
    client.open()
    try:
        with pytest.raises(ConnectionLost, match="closed the connection"):
            client.read_profile("1.0.99.1.0.255")
        with pytest.raises(LocalProtocolError, match="closed after an earlier error"):
            client.read_clock()
    finally:
        client.close()
        client.shutdown()
    still_serves(meter)


def test_async_client_context_releases(meter):
    import asyncio

    async def main():
        async with AsyncClient(meter.url, timeout=3, **client_options("hls-gmac", "authenc")) as c:
            assert str((await c.read("1.0.32.7.0.255")).scaled) == "230.1"
            assert c.association is not None
        assert c.association is None

    asyncio.run(main())
    still_serves(meter)


def test_keys_never_in_reprs_or_errors(meter):
    options = client_options("hls-gmac", "authenc")
    options["ak"] = bytes.fromhex("AB" * 16)
    client = Client(meter.url, timeout=3, **options)
    with pytest.raises(TagError) as caught:
        client.open()
    for text in (str(caught.value), repr(client._async._settings)):
        assert EK.hex() not in text.lower() and "ab" * 16 not in text.lower()
        assert AK.hex() not in text.lower()


def test_hdlc_wrong_server_address_and_probe():
    import asyncio

    from dlmsfast.client.probe import probe_addresses

    hdlc = GuruxMeter("--hdlc", "--auth", "all", "--security", "any", "--deterministic")
    try:
        # the meter ignores frames for another logical address: silence, named
        with pytest.raises(TimeoutError, match="client SAP 16, server logical 5, physical 17"):
            Client(hdlc.url, framing="hdlc", server=5, server_physical=17, timeout=0.3).open()
        # wrong logical and physical addresses: both are varied, the given first (this
        # meter takes any physical address, so the given one stays)
        found = asyncio.run(probe_addresses(hdlc.url, framing="hdlc", server=5,
                                            server_physical=99, timeout=0.3))
        assert found.addresses == {"client": 16, "server": 1, "server_physical": 99}
        assert found.tried[0] == "client 16, server 5, physical 99: TimeoutError"
        assert "client 16, server 5, physical 17: TimeoutError" in found.tried
        assert found.tried[-1] == ("the meter associates at client 16, server 1, physical 99 "
                                   "(--client 16 --server 1 --server-physical 99)")
        with Client(hdlc.url, framing="hdlc", timeout=3, **found.addresses) as c:
            assert c.read("0.0.42.0.0.255", class_id=1).value == b"MMM0000012345678"
    finally:
        hdlc.stop()
