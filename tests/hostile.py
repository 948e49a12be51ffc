"""Hostile meters on loopback: a real association (dlmsfast's own server role
answers the AARQ), then answers that a broken or malicious meter could send.

``HostileMeter(answer)``: TCP with the wrapper; ``answer(apdu)`` returns the
frames' payloads to send for each request after the association (an iterable,
so a generator can send forever until the client closes)."""
from __future__ import annotations

import socket
import time
from typing import Callable, Iterable

from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter

from ownmeter import OBJECTS, Application, WrapperMeter, policy

Answer = Callable[[bytes], Iterable[bytes]]


class HostileMeter(WrapperMeter):
    def __init__(self, answer: Answer, aare: Callable[[bytes], bytes] = bytes) -> None:
        self.answer = answer
        self.aare = aare  # what the meter does to its AARE
        self.sent = 0  # payload octets sent by the hostile answers
        self.cut: int | None = None  # send only so many octets of a hostile frame, slowly
        self.then_close = False  # and then close the connection
        super().__init__(Application(OBJECTS, policy()))

    def _serve(self, conn: socket.socket) -> None:
        splitter = WrapperStreamSplitter()
        session = None
        with conn:
            try:
                while data := conn.recv(65536):
                    for frame in splitter.feed(data):
                        client = frame.source_wport
                        if session is None or frame.payload[:1] in (b"\x60", b"\x62"):
                            session = self.app.session(client)
                            replies = [self.aare(a) for a in self.app.handle(session,
                                                                             frame.payload)]
                        else:
                            replies = self.answer(frame.payload)
                        for apdu in replies:
                            octets = WrapperFrame(1, frame.destination_wport, client,
                                                  apdu).to_bytes()
                            if self.cut is not None and frame.payload[:1] not in (b"\x60",
                                                                                  b"\x62"):
                                self._trickle(conn, octets[:self.cut])
                                if self.then_close:
                                    return
                                continue
                            conn.sendall(octets)
                            self.sent += len(apdu)
            except OSError:
                return

    @staticmethod
    def _trickle(conn: socket.socket, octets: bytes) -> None:
        for i in range(len(octets)):
            conn.sendall(octets[i:i + 1])
            time.sleep(0.01)
