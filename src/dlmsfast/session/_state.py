"""Every state rule of an association, for the client and the server role, as data.

The rules (h11's ``_state.py`` habit: the table below is the whole truth):

1. A session object carries one association at a time; its state is one of
   :class:`State`. Each role has its own column of :data:`TRANSITIONS`.
2. A state changes only on a ``(role, state, trigger)`` listed in the table.
   Anything else is refused: a call of the caller's that the state does not
   allow is a :class:`~dlmsfast.errors.LocalProtocolError`; an APDU from the
   peer that the state does not expect is a :class:`~dlmsfast.errors.ProtocolError`
   (the server answers it rather than raising, see the server role).
3. GET, SET, ACTION and their block transfers run only in ``ASSOCIATED``; in
   ``HLS_PENDING`` only the pass-3/pass-4 exchange (reply_to_HLS_authentication)
   and the release may run.
4. ``RELEASED`` behaves as ``IDLE``: a new AARQ starts another association
   (over the wrapper the connection outlives the association).
5. An AARQ while an association is established (``ASSOCIATED``, or
   ``HLS_PENDING``: the AARE went out, pass 3 is awaited) starts none: the
   server refuses it (AARE rejected-permanent) and the association stays as it
   was. The Green Book's server control function leaves ASSOCIATED only by a
   release or an abort; a client re-associates after an RLRQ (rule 4).
6. ``ABORT`` (the link dropped, the caller gave up) returns either role to ``IDLE``
   from anywhere; no APDU is sent.

::

    client                                   server
    IDLE/RELEASED --send AARQ--> AARQ_SENT   IDLE/RELEASED --AARQ ok--> ASSOCIATED
    AARQ_SENT --AARE ok--> ASSOCIATED                      --AARQ ok, HLS--> HLS_PENDING
    AARQ_SENT --AARE ok, HLS--> HLS_PENDING                --AARQ refused--> IDLE
    AARQ_SENT --AARE refused--> IDLE         ASSOCIATED --AARQ--> ASSOCIATED (refused)
    HLS_PENDING --f(CtoS) ok--> ASSOCIATED   HLS_PENDING --AARQ--> HLS_PENDING (refused)
    HLS_PENDING --HLS failed--> IDLE         HLS_PENDING --f(StoC) ok--> ASSOCIATED
    ASSOCIATED/HLS_PENDING --send RLRQ-->    HLS_PENDING --f(StoC) wrong--> IDLE
        RELEASE_SENT                         ASSOCIATED/HLS_PENDING --RLRQ--> RELEASED
    RELEASE_SENT --RLRE--> RELEASED
"""
from __future__ import annotations

from enum import Enum

from ..errors import LocalProtocolError


class Role(Enum):
    CLIENT = "client"
    SERVER = "server"


class State(Enum):
    IDLE = "idle"
    AARQ_SENT = "aarq-sent"
    HLS_PENDING = "hls-pending"
    ASSOCIATED = "associated"
    RELEASE_SENT = "release-sent"
    RELEASED = "released"


class Trigger(Enum):
    # client
    SEND_AARQ = "send AARQ"
    AARE_ACCEPTED = "AARE accepted"
    AARE_ACCEPTED_HLS = "AARE accepted, HLS pass 3 to do"
    AARE_REJECTED = "AARE rejected"
    HLS_PASS4_OK = "f(CtoS) verified"
    SEND_RLRQ = "send RLRQ"
    RLRE = "RLRE received"
    # server
    AARQ_ACCEPTED = "AARQ accepted"
    AARQ_ACCEPTED_HLS = "AARQ accepted, HLS pass 3 awaited"
    AARQ_REJECTED = "AARQ rejected"
    AARQ_IN_ASSOCIATION = "refuse an AARQ during an association"
    HLS_PASS3_OK = "f(StoC) verified"
    RLRQ = "RLRQ received"
    # both
    HLS_FAILED = "HLS authentication failed"
    ABORT = "abort"


_C, _S = Role.CLIENT, Role.SERVER
S = State
T = Trigger

TRANSITIONS: dict[tuple[Role, State, Trigger], State] = {
    (_C, S.IDLE, T.SEND_AARQ): S.AARQ_SENT,
    (_C, S.RELEASED, T.SEND_AARQ): S.AARQ_SENT,
    (_C, S.AARQ_SENT, T.AARE_ACCEPTED): S.ASSOCIATED,
    (_C, S.AARQ_SENT, T.AARE_ACCEPTED_HLS): S.HLS_PENDING,
    (_C, S.AARQ_SENT, T.AARE_REJECTED): S.IDLE,
    (_C, S.HLS_PENDING, T.HLS_PASS4_OK): S.ASSOCIATED,
    (_C, S.HLS_PENDING, T.HLS_FAILED): S.IDLE,
    (_C, S.ASSOCIATED, T.SEND_RLRQ): S.RELEASE_SENT,
    (_C, S.HLS_PENDING, T.SEND_RLRQ): S.RELEASE_SENT,
    (_C, S.RELEASE_SENT, T.RLRE): S.RELEASED,
    **{(_S, state, T.AARQ_ACCEPTED): S.ASSOCIATED for state in (S.IDLE, S.RELEASED)},
    **{(_S, state, T.AARQ_ACCEPTED_HLS): S.HLS_PENDING for state in (S.IDLE, S.RELEASED)},
    **{(_S, state, T.AARQ_REJECTED): S.IDLE for state in (S.IDLE, S.RELEASED)},
    (_S, S.ASSOCIATED, T.AARQ_IN_ASSOCIATION): S.ASSOCIATED,
    (_S, S.HLS_PENDING, T.AARQ_IN_ASSOCIATION): S.HLS_PENDING,
    (_S, S.HLS_PENDING, T.HLS_PASS3_OK): S.ASSOCIATED,
    (_S, S.HLS_PENDING, T.HLS_FAILED): S.IDLE,
    (_S, S.ASSOCIATED, T.RLRQ): S.RELEASED,
    (_S, S.HLS_PENDING, T.RLRQ): S.RELEASED,
    **{(role, state, T.ABORT): S.IDLE for role in Role for state in State},
}
"""(role, state, trigger) -> next state; the only transitions there are."""

SERVICE_STATES: frozenset[State] = frozenset({State.ASSOCIATED})
"""States in which GET, SET and ACTION may run."""


def next_state(role: Role, state: State, trigger: Trigger) -> State:
    """The state after ``trigger``; LocalProtocolError when the table has no such move."""
    try:
        return TRANSITIONS[role, state, trigger]
    except KeyError:
        raise LocalProtocolError(
            f"{role.value} session in state {state.value}: cannot {trigger.value}"
        ) from None


__all__ = ["Role", "State", "Trigger", "TRANSITIONS", "SERVICE_STATES", "next_state"]
