"""The ciphering rules of SecurityContext, each on every ciphered form.

The rules live once, in the compiled core (``_gcm.CipheringCore``); the
service-specific and general-glo/-ded forms run them in C, general-ciphering
and the explain steps call them from Python. Each rule is checked here on
every form, so a second copy drifting away would show. Also: the safe
defaults (a downgraded APDU is refused, an empty system title is refused),
the invocation counter that never goes back, and its write-ahead hook.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlmsfast.errors import (
    ConfigurationError,
    DecodeError,
    PolicyError,
    ReplayError,
    TagError,
    UsageError,
)
from dlmsfast.security import SecurityContext, _gcm, parse_ciphered
from dlmsfast.security.hls import AuthenticationMechanism, respond

EK = bytes(range(16))
AK = bytes(range(16, 32))
DK = bytes(range(32, 48))
BK = bytes(range(48, 64))
A, B = b"AAAAAAAA", b"BBBBBBBB"
GET = bytes.fromhex("C0010000080000010000FF0200")
FORMS = ["glo", "ded", "general-glo", "general-ded", "general-ciphering"]
DEDICATED = {"ded", "general-ded"}
BACKENDS = [b for b in _gcm.BACKENDS if b != "openssl" or _gcm.openssl_available]
# the package under test, wherever it is (the source tree or an installed wheel)
SECURITY_DIR = Path(_gcm.__file__).resolve().parent


def _pair(**receiver):
    keys = dict(block_cipher_key=EK, authentication_key=AK, dedicated_key=DK)
    sender = SecurityContext(system_title=A, peer_system_title=B, security_policy=0,
                             broadcast_key=BK, **keys)
    return sender, SecurityContext(system_title=B, peer_system_title=A,
                                   **{**keys, **receiver})


def _with_sc(data: bytes, sc: int) -> bytes:
    """The same octets with another security control octet: SC || IC || info || T
    ends every ciphered APDU, so SC sits that many octets before the end."""
    apdu = parse_ciphered(data)
    at = len(data) - (5 + len(apdu.ciphertext) + len(apdu.authentication_tag))
    assert data[at] == apdu.security_control.value
    return data[:at] + bytes((sc,)) + data[at + 1:]


# ---------------------------------------------------------------- receiving rules


@pytest.mark.parametrize("form", FORMS)
def test_default_policy_refuses_a_downgraded_apdu(form):
    # SC 0x30 changed to 0x20 on the way: without a policy the tag would be taken
    # for ciphertext and 12 garbage octets returned with the plaintext.
    sender, receiver = _pair()
    assert receiver.security_policy == 0x30
    data = sender.encrypt(GET, form=form)
    with pytest.raises(PolicyError, match="requires authentication"):
        receiver.decrypt(_with_sc(data, 0x20))
    with pytest.raises(PolicyError, match="requires encryption"):
        receiver.decrypt(_with_sc(data, 0x10))
    assert receiver.peer_invocation_counter is None
    assert receiver.decrypt(data) == GET


@pytest.mark.parametrize("form", FORMS)
def test_a_lowered_policy_is_the_callers_explicit_choice(form):
    sender, receiver = _pair(security_policy=0x20)
    assert receiver.decrypt(sender.encrypt(GET, security_control=0x20, form=form)) == GET
    with pytest.raises(PolicyError):
        receiver.decrypt(sender.encrypt(GET, security_control=0x10, form=form))


@pytest.mark.parametrize("form", FORMS)
def test_every_receiving_rule_on_every_form(form):
    sender, receiver = _pair()
    data = sender.encrypt(GET, form=form)
    later = sender.encrypt(GET, form=form)
    with pytest.raises(PolicyError, match="no protection"):
        receiver.decrypt(_with_sc(data, 0x00))
    with pytest.raises(PolicyError, match="compressed"):
        receiver.decrypt(_with_sc(data, 0xB0))
    if form in DEDICATED:
        with pytest.raises(PolicyError, match="cannot use the broadcast key"):
            receiver.decrypt(_with_sc(data, 0x70))
    else:
        # this receiver holds no broadcast key: the peer's choice is refused
        # (a RemoteError: a peer cannot make a receiver raise a local error)
        with pytest.raises(PolicyError, match="broadcast key, which this side does not hold"):
            receiver.decrypt(_with_sc(data, 0x70))
    forged = bytearray(data)
    forged[-1] ^= 1
    with pytest.raises(TagError):
        receiver.decrypt(bytes(forged))
    assert receiver.peer_invocation_counter is None  # nothing refused was accepted
    assert receiver.decrypt(later) == GET
    with pytest.raises(ReplayError, match="replayed invocation counter 0"):
        receiver.decrypt(data)
    with pytest.raises(ReplayError, match="replayed invocation counter 1"):
        receiver.decrypt(later)


@pytest.mark.parametrize("form", FORMS)
def test_every_sending_rule_on_every_form(form):
    sender, _ = _pair()
    for sc, message in ((0x00, "no protection"), (0x31, "suite"), (0xB0, "compression")):
        with pytest.raises(UsageError, match=message):
            sender.encrypt(GET, security_control=sc, form=form)
    if form in DEDICATED:
        with pytest.raises(UsageError, match="not the broadcast key"):
            sender.encrypt(GET, security_control=0x70, form=form)
    assert sender.invocation_counter == 0  # refused before any IC is taken
    no_dedicated = SecurityContext(system_title=A, peer_system_title=B,
                                   block_cipher_key=EK, authentication_key=AK)
    if form in DEDICATED:
        with pytest.raises(ConfigurationError, match="dedicated key"):
            no_dedicated.encrypt(GET, form=form)
    else:
        with pytest.raises(ConfigurationError, match="broadcast key"):
            no_dedicated.encrypt(GET, security_control=0x70, form=form)


def test_check_received_is_the_same_rule_for_other_parsers():
    _gcm.check_received(0x30, 5, required_protection=0x30, last_invocation_counter=4)
    with pytest.raises(ReplayError):
        _gcm.check_received(0x30, 4, last_invocation_counter=4)
    with pytest.raises(PolicyError):
        _gcm.check_received(0x20, 5, required_protection=0x30)
    with pytest.raises(PolicyError):
        _gcm.check_received(0x70, 5, dedicated=True)
    with pytest.raises(UsageError):
        _gcm.check_received("0x30", 5)


def test_the_compiled_core_owns_its_tables_without_the_context_module():
    # Load the compiled module with stand-in packages, so that neither
    # dlmsfast.security's __init__ nor .context (which used to install the
    # service tag table at import) runs.
    code = textwrap.dedent(f"""
        import sys, types
        for name, path in (("dlmsfast", {str(SECURITY_DIR.parent)!r}),
                           ("dlmsfast.security", {str(SECURITY_DIR)!r})):
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module
        from dlmsfast.security import _gcm
        assert "dlmsfast.security.context" not in sys.modules
        def core(title, peer):
            c = _gcm.CipheringCore()
            c._system_title, c._peer_system_title, c._ak = title, peer, bytes(16)
            c._unicast = _gcm.AesGcm(bytes(16))
            return c
        sender, receiver = core(b"AAAAAAAA", b"BBBBBBBB"), core(b"BBBBBBBB", b"AAAAAAAA")
        data = sender.encrypt(bytes.fromhex("C0010000080000010000FF0200"))
        assert data[0] == 0xC8, data.hex()
        assert receiver.decrypt(data) == bytes.fromhex("C0010000080000010000FF0200")
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# ---------------------------------------------------------------- system titles


@pytest.mark.parametrize("empty", [b"", "", bytearray()])
def test_an_empty_system_title_is_refused_never_padded(empty):
    keys = dict(block_cipher_key=EK, authentication_key=AK)
    with pytest.raises(ConfigurationError, match="8 octets, got 0"):
        SecurityContext(system_title=empty, **keys)
    with pytest.raises(ConfigurationError, match="8 octets, got 0"):
        SecurityContext(system_title=A, peer_system_title=empty, **keys)
    sender, receiver = _pair()
    with pytest.raises(ConfigurationError, match="8 octets, got 0"):
        receiver.peer_system_title = empty
    data = sender.encrypt(GET)
    with pytest.raises((ConfigurationError, UsageError)):
        receiver.decrypt(data, system_title=empty)
    assert receiver.peer_invocation_counter is None


# ---------------------------------------------------------------- invocation counter


def test_the_invocation_counter_never_goes_back():
    sender, _ = _pair()
    sender.invocation_counter = 10
    sender.invocation_counter = 10  # staying is not going back
    first = sender.encrypt(GET)
    with pytest.raises(UsageError, match="below the next one"):
        sender.invocation_counter = 10
    with pytest.raises(UsageError):
        sender.invocation_counter = -1
    assert sender.invocation_counter == 11
    assert parse_ciphered(first).invocation_counter == 10
    with pytest.raises(AttributeError):
        sender._invocation_counter = 0  # the compiled field is read-only too


def test_explain_encrypt_cannot_reuse_an_iv_on_a_live_context():
    # Before: explain_encrypt(invocation_counter=...) ciphered with an IC the
    # context had already sent, under the same key (GCM nonce reuse).
    sender, receiver = _pair()
    sent = [sender.encrypt(GET) for _ in range(3)]
    with pytest.raises(UsageError, match="below the next one"):
        sender.explain_encrypt(b"\xc0\x01\x00", invocation_counter=1)
    assert sender.invocation_counter == 3
    data, steps = sender.explain_encrypt(b"\xc0\x01\x00", invocation_counter=7)
    assert steps.invocation_counter == 7 and sender.invocation_counter == 8
    ivs = {parse_ciphered(d).invocation_counter for d in sent + [data]}
    assert ivs == {0, 1, 2, 7}


@pytest.mark.parametrize("form", FORMS)
def test_the_hook_persists_each_ic_before_it_is_used(form):
    seen: list[int] = []
    sender, receiver = _pair()
    sender.invocation_counter = 5

    def persist(ic):
        # the IC is handed over before the APDU that carries it exists
        assert sender.invocation_counter == ic
        seen.append(ic)

    sender.on_invocation_counter = persist
    sent = [sender.encrypt(GET, form=form) for _ in range(3)]
    assert seen == [5, 6, 7]
    assert [parse_ciphered(d).invocation_counter for d in sent] == [5, 6, 7]
    assert [receiver.decrypt(d) for d in sent] == [GET] * 3


class _StoreDown(Exception):
    pass


@pytest.mark.parametrize("form", FORMS)
def test_a_failing_hook_ciphers_nothing_and_consumes_nothing(form):
    sender, _ = _pair()
    calls: list[int] = []

    def failing(ic):
        calls.append(ic)
        raise _StoreDown("disk full")

    sender.on_invocation_counter = failing
    with pytest.raises(_StoreDown):
        sender.encrypt(GET, form=form)
    with pytest.raises(_StoreDown):
        sender.encrypt(GET, form=form)
    assert calls == [0, 0] and sender.invocation_counter == 0
    sender.on_invocation_counter = lambda ic: None
    assert parse_ciphered(sender.encrypt(GET, form=form)).invocation_counter == 0


def test_the_hook_may_reserve_a_block_of_counters():
    sender, _ = _pair()
    reserved: list[tuple[int, int]] = []

    def reserve(ic):
        reserved.append((ic, ic + 100))
        return ic + 100

    sender.on_invocation_counter = reserve
    for _ in range(250):
        sender.encrypt(GET)
    assert reserved == [(0, 100), (100, 200), (200, 300)]
    # moving the counter forward past the reserved block calls the hook again
    sender.invocation_counter = 1000
    sender.encrypt(GET)
    assert reserved[-1] == (1000, 1100)


@pytest.mark.parametrize("answer", [5, 0, "300", 2.5, 2 ** 33])
def test_a_hook_answer_that_reserves_nothing_is_refused(answer):
    sender, _ = _pair()
    sender.invocation_counter = 5
    sender.on_invocation_counter = lambda ic: answer
    with pytest.raises(UsageError, match="hook"):
        sender.encrypt(GET)
    assert sender.invocation_counter == 5


def test_the_hook_guards_hls_gmac_too():
    client, _ = _pair()
    seen: list[int] = []
    client.on_invocation_counter = seen.append
    response = respond(AuthenticationMechanism.HLS_GMAC, b"challenge", context=client)
    assert seen == [0] and response[1:5] == bytes(4)


def test_the_hook_is_a_constructor_argument_and_must_be_callable():
    seen: list[int] = []
    context = SecurityContext(system_title=A, block_cipher_key=EK, authentication_key=AK,
                              on_invocation_counter=seen.append, invocation_counter=3)
    context.encrypt(GET)
    assert seen == [3] and context.on_invocation_counter == seen.append
    with pytest.raises(UsageError, match="callable"):
        SecurityContext(system_title=A, block_cipher_key=EK, authentication_key=AK,
                        on_invocation_counter=5)


# ---------------------------------------------------------------- no copies of keys


@pytest.mark.parametrize("backend", BACKENDS)
def test_nothing_holding_keys_pickles_or_copies(backend):
    import copy
    import pickle

    context = SecurityContext(system_title=A, block_cipher_key=EK, authentication_key=AK,
                              backend=backend)
    core = _gcm.CipheringCore()
    for holder in (context, core, _gcm.AesGcm(EK, backend)):
        for leak in (pickle.dumps, copy.copy, copy.deepcopy,
                     lambda o: pickle.dumps(o, protocol=0)):
            with pytest.raises(UsageError, match="neither pickled nor copied") as caught:
                leak(holder)
            assert EK.hex() not in str(caught.value).lower()


# ---------------------------------------------------------------- length forms


@pytest.mark.parametrize("form", ["glo", "general-glo"])
def test_the_compiled_path_and_the_structure_parser_read_lengths_alike(form):
    # The compiled core reads the A-XDR length of the ciphered content in C;
    # the structure parser (explain, general-ciphering) with dlmsfast.axdr.
    # Both must accept and refuse the same length forms.
    sender, _ = _pair()
    data = sender.encrypt(GET, form=form)
    at = 10 if form == "general-glo" else 1
    length = data[at]
    content = data[at + 1:]
    forms = {
        "short": bytes((length,)),
        "long 1": bytes((0x81, length)),
        "long 2": bytes((0x82, 0, length)),
        "long 4": bytes((0x84, 0, 0, 0, length)),
        "indefinite": b"\x80",
        "long 5": bytes((0x85, 0, 0, 0, 0, length)),
        "too long": bytes((0x81, length + 1)),
        "too short": bytes((0x81, length - 1)),
        "huge": b"\x84\xff\xff\xff\xff",
    }
    for name, prefix in forms.items():
        forged = data[:at] + prefix + content
        outcomes = []
        for read in (lambda d: _pair()[1].decrypt(d),
                     lambda d: _pair()[1].explain_decrypt(d).plaintext):
            try:
                outcomes.append(read(forged))
            except DecodeError:
                outcomes.append(DecodeError)
        assert outcomes[0] == outcomes[1], name
        assert (outcomes[0] == GET) == name.startswith(("short", "long 1", "long 2", "long 4"))


def test_threads_sharing_a_context_never_use_an_unpersisted_or_repeated_ic():
    import threading
    import time

    sender, _ = _pair()
    persisted: list[range] = []

    def reserve(ic):
        time.sleep(0)  # let another thread run while the store "writes"
        persisted.append(range(ic, ic + 7))
        return ic + 7

    sender.on_invocation_counter = reserve
    used: list[int] = []

    def work():
        for _ in range(150):
            used.append(parse_ciphered(sender.encrypt(GET)).invocation_counter)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(used) == 600 and len(set(used)) == 600
    covered = set().union(*persisted)
    assert set(used) <= covered


@pytest.mark.parametrize("form", sorted(DEDICATED))
def test_a_received_apdu_for_a_key_not_held_is_refused_as_the_peers(form):
    sender, _ = _pair()
    receiver = SecurityContext(system_title=B, peer_system_title=A, block_cipher_key=EK,
                               authentication_key=AK)
    with pytest.raises(PolicyError, match="dedicated key, which this side does not hold"):
        receiver.decrypt(sender.encrypt(GET, form=form))
    assert receiver.peer_invocation_counter is None
