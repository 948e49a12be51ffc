# cython: language_level=3
"""AES-GCM with 12-octet tags, the cipher of DLMS security suites 0, 1 and 2.

Two backends share one API (:class:`AesGcm`):

``openssl``
    OpenSSL's EVP interface, called directly. No OpenSSL headers or import
    library are needed at build time: the EVP function pointer types are
    declared in ``_openssl_shim.h`` (beside this file), and at import the
    functions are resolved from the libcrypto that the Python process
    already carries (``_hashlib`` and ``_ssl`` link it). Each :class:`AesGcm` keeps two EVP contexts (one per
    direction) keyed once at construction; a call only sets the IV, so the
    key schedule is never redone. Output is written straight into the
    result ``bytes`` object: no copies beyond the output.

``cryptography``
    The ``cryptography`` package, used when libcrypto cannot be found at run
    time (or when ``DLMSFAST_GCM_BACKEND=cryptography`` asks for it).

:data:`backend` names the default. A broken build still fails at import;
only a missing libcrypto at run time selects the fallback.

The per-APDU DLMS path (:meth:`AesGcm.seal_service`, :func:`open_service`,
:class:`CipheringCore`) builds and parses the glo-/ded- header in C, and on
receipt the general-glo-/general-ded-ciphering header too::

    tag | length | SC | IC (4) | ciphertext | T (12)
    DB/DC | length | system title | length | SC | IC (4) | ciphertext | T (12)
    IV  = system title (8) || IC (4, big-endian)
    AAD = SC || AK            (authenticated and encrypted, SC 0x3n)
    AAD = SC || AK || APDU    (authenticated only, SC 0x1n)

This module is also the one home of the ciphering rules (:class:`CipheringCore`,
``_sending_rules``, ``_receiving_rules``, the key choice, the invocation
counters) and of the security control bits (``SC_*``):
dlmsfast.security.context and .ciphered read them from here and keep no copy.
The service tag table is the package's one table (``dlmsfast._tags``).

Errors: a wrong tag is a TagError, a replayed IC a ReplayError, less
protection than required a PolicyError, malformed bytes a DecodeError with
the offset, a missing or unusable key or title a ConfigurationError, an
OpenSSL failure a BackendError, a wrong argument a UsageError. Nothing that
holds a key pickles or copies.

The GIL is held throughout: a context serves one call at a time, and the
APDUs are small enough that releasing it would cost more than it gains.
"""
import os
from hmac import compare_digest as _compare_digest

cimport cython

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer

from .._arguments cimport acquire_octets
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.limits cimport INT_MAX
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from dlmsfast._util import shown
from dlmsfast.errors import (
    BackendError,
    ConfigurationError,
    DecodeError,
    PolicyError,
    ReplayError,
    TagError,
    UsageError,
)

cdef extern from "_openssl_shim.h":
    char dlmsfast_libcrypto_path[1024]
    int dlmsfast_resolve()
    const char *dlmsfast_openssl_version()
    void *dlmsfast_ctx_new()
    void dlmsfast_ctx_free(void *ctx)
    const void *dlmsfast_aes_128_gcm()
    const void *dlmsfast_aes_256_gcm()
    int dlmsfast_encrypt_init(void *ctx, const void *cipher, const uint8_t *key, const uint8_t *iv)
    int dlmsfast_decrypt_init(void *ctx, const void *cipher, const uint8_t *key, const uint8_t *iv)
    int dlmsfast_ctrl(void *ctx, int type, int arg, void *ptr)
    int dlmsfast_encrypt_update(void *ctx, uint8_t *out, int *outl, const uint8_t *inp, int inl)
    int dlmsfast_decrypt_update(void *ctx, uint8_t *out, int *outl, const uint8_t *inp, int inl)
    int dlmsfast_encrypt_final(void *ctx, uint8_t *out, int *outl)
    int dlmsfast_decrypt_final(void *ctx, uint8_t *out, int *outl)

cdef enum:
    EVP_CTRL_GCM_GET_TAG = 0x10
    EVP_CTRL_GCM_SET_TAG = 0x11

TAG_LENGTH = 12
BACKENDS = ("openssl", "cryptography")

def _resolve_openssl():
    """Find libcrypto in this process; returns (path, version) or None."""
    # Importing _hashlib (or _ssl) is what maps libcrypto into the process.
    for name in ("_hashlib", "_ssl"):
        try:
            __import__(name)
        except ImportError:
            continue
    if dlmsfast_resolve() != 0:
        return None
    return (dlmsfast_libcrypto_path.decode("utf-8", "replace"),
            dlmsfast_openssl_version().decode("ascii", "replace"))


cdef bint _openssl_ready = False
openssl_library = None
openssl_version = None

_resolved = _resolve_openssl()
if _resolved is not None:
    _openssl_ready = True
    openssl_library, openssl_version = _resolved

_requested = os.environ.get("DLMSFAST_GCM_BACKEND", "").strip().lower()
if _requested not in ("", "auto") + BACKENDS:
    raise ImportError(
        f"DLMSFAST_GCM_BACKEND={_requested!r}: expected 'openssl', 'cryptography' or 'auto'"
    )
if _requested == "openssl" and not _openssl_ready:
    raise ImportError(
        "DLMSFAST_GCM_BACKEND=openssl but no libcrypto with the EVP AES-GCM "
        "functions is loaded in this process"
    )
if _requested == "cryptography" or not _openssl_ready:
    backend = "cryptography"
else:
    backend = "openssl"

openssl_available = bool(_openssl_ready)


cdef inline int _get_buffer(object obj, Py_buffer *view, str what) except -1:
    """A read-only view of a bytes-like argument (the rule of _arguments.pxd)."""
    if acquire_octets(obj, view):
        return 0
    raise UsageError(f"{what} must be bytes-like, got {type(obj).__name__}")


cdef long long _int_argument(object value, str what, long long low, long long high) except? -1:
    """An int argument in low..high (bool and float refused: UsageError)."""
    if type(value) is not int:
        raise UsageError(f"{what} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise UsageError(f"{what} must be {low}..{high}, got {value}")
    return value


cdef inline int _check_int(Py_ssize_t n, str what) except -1:
    if n > INT_MAX:
        raise UsageError(f"{what} of {n} octets is too long for AES-GCM here")
    return 0


cdef int _evp_aad(void *ctx, bint decrypting, const uint8_t *aad1, Py_ssize_t n1,
                  const uint8_t *aad2, Py_ssize_t n2,
                  const uint8_t *aad3, Py_ssize_t n3) except -1:
    """Feed the AAD in up to three parts (GCM accepts AAD in pieces before data)."""
    cdef const uint8_t *parts[3]
    cdef Py_ssize_t sizes[3]
    cdef int i, outl = 0, rc
    parts[0], parts[1], parts[2] = aad1, aad2, aad3
    sizes[0], sizes[1], sizes[2] = n1, n2, n3
    for i in range(3):
        if sizes[i] == 0:
            continue
        if decrypting:
            rc = dlmsfast_decrypt_update(ctx, NULL, &outl, parts[i], <int>sizes[i])
        else:
            rc = dlmsfast_encrypt_update(ctx, NULL, &outl, parts[i], <int>sizes[i])
        if rc != 1:
            raise BackendError("EVP update with the AAD failed")
    return 0


cdef bytes _join_aad(const uint8_t *aad1, Py_ssize_t n1, const uint8_t *aad2, Py_ssize_t n2,
                     const uint8_t *aad3, Py_ssize_t n3):
    return (PyBytes_FromStringAndSize(<const char *>aad1, n1)
            + PyBytes_FromStringAndSize(<const char *>aad2, n2)
            + PyBytes_FromStringAndSize(<const char *>aad3, n3))


cdef inline int _check_keyed(AesGcm cipher) except -1:
    # only an object made with __new__ and never __init__ has neither backend
    if cipher._aesgcm is None:
        raise UsageError("AesGcm was never given a key")
    return 0


@cython.auto_pickle(False)
cdef class AesGcm:
    """AES-GCM under one key (16 octets: AES-128, 32 octets: AES-256).

    ``backend`` is ``"openssl"``, ``"cryptography"`` or None for the module
    default (:data:`backend`). Tags are 12 octets unless ``tag_length`` says
    otherwise (0 means "no tag": encryption only, SC 0x2n). The key is never
    shown in the repr.
    """

    cdef void *_enc
    cdef void *_dec
    cdef bint _openssl
    cdef readonly int key_bits
    cdef object _aesgcm       # cryptography's AESGCM (fallback)

    def __cinit__(self):
        self._enc = NULL
        self._dec = NULL

    def __init__(self, key, backend=None):
        cdef Py_buffer view
        cdef const void *cipher
        chosen = backend if backend is not None else globals()["backend"]
        if type(chosen) is not str or chosen not in BACKENDS:
            raise UsageError(f"backend must be one of {BACKENDS}, got {shown(chosen)}")
        _get_buffer(key, &view, "AES-GCM key")
        try:
            if view.len not in (16, 32):
                raise ConfigurationError(f"AES-GCM key must be 16 or 32 octets, got {view.len}")
            self.key_bits = <int>view.len * 8
            if chosen == "openssl":
                if not _openssl_ready:
                    raise BackendError("the openssl backend is not available in this process")
                cipher = dlmsfast_aes_128_gcm() if view.len == 16 else dlmsfast_aes_256_gcm()
                if self._enc == NULL:
                    self._enc = dlmsfast_ctx_new()
                if self._dec == NULL:
                    self._dec = dlmsfast_ctx_new()
                if self._enc == NULL or self._dec == NULL:
                    raise BackendError("EVP_CIPHER_CTX_new failed")
                # GCM's default IV length is 12 octets, the DLMS IV's length, so
                # EVP_CTRL_GCM_SET_IVLEN is never needed.
                if (dlmsfast_encrypt_init(self._enc, cipher, <const uint8_t *>view.buf, NULL) != 1
                        or dlmsfast_decrypt_init(self._dec, cipher,
                                                 <const uint8_t *>view.buf, NULL) != 1):
                    raise BackendError("OpenSSL refused the AES-GCM key")
                # Only now: a context that failed to be made must never be used.
                self._openssl = True
            else:
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM
                self._openssl = False
                self._aesgcm = AESGCM(PyBytes_FromStringAndSize(<const char *>view.buf, view.len))
        finally:
            PyBuffer_Release(&view)

    def __dealloc__(self):
        if self._enc != NULL:
            dlmsfast_ctx_free(self._enc)
        if self._dec != NULL:
            dlmsfast_ctx_free(self._dec)

    def __repr__(self):
        return f"AesGcm(aes-{self.key_bits}-gcm, backend={self.backend!r})"

    def __reduce__(self):
        raise UsageError("AesGcm holds a key: it is neither pickled nor copied")

    def __copy__(self):
        raise UsageError("AesGcm holds a key: it is neither pickled nor copied")

    def __deepcopy__(self, memo):
        raise UsageError("AesGcm holds a key: it is neither pickled nor copied")

    @property
    def backend(self):
        return "openssl" if self._openssl else "cryptography"

    # -- core primitives (pointers in, pointers out) ------------------------

    cdef int _seal(self, const uint8_t *iv,
                   const uint8_t *aad1, Py_ssize_t n1,
                   const uint8_t *aad2, Py_ssize_t n2,
                   const uint8_t *aad3, Py_ssize_t n3,
                   const uint8_t *pt, Py_ssize_t n,
                   uint8_t *out, uint8_t *tag_out, int tag_length) except -1:
        """Encrypt n octets of pt into out and write the tag (AAD = aad1||aad2||aad3)."""
        cdef int outl = 0
        cdef void *ctx = self._enc
        _check_int(n, "plaintext")
        _check_int(n1 + n2 + n3, "authenticated data")
        if not self._openssl:
            return self._seal_fallback(iv, aad1, n1, aad2, n2, aad3, n3, pt, n, out, tag_out,
                                       tag_length)
        if dlmsfast_encrypt_init(ctx, NULL, NULL, iv) != 1:
            raise BackendError("EVP_EncryptInit_ex failed")
        if tag_length:
            _evp_aad(ctx, False, aad1, n1, aad2, n2, aad3, n3)
        if n and dlmsfast_encrypt_update(ctx, out, &outl, pt, <int>n) != 1:
            raise BackendError("EVP_EncryptUpdate failed")
        if tag_length:
            if dlmsfast_encrypt_final(ctx, out + n, &outl) != 1:
                raise BackendError("EVP_EncryptFinal_ex failed")
            if dlmsfast_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, tag_length, tag_out) != 1:
                raise BackendError("EVP_CTRL_GCM_GET_TAG failed")
        return 0

    cdef int _seal_fallback(self, const uint8_t *iv,
                            const uint8_t *aad1, Py_ssize_t n1,
                            const uint8_t *aad2, Py_ssize_t n2,
                            const uint8_t *aad3, Py_ssize_t n3,
                            const uint8_t *pt, Py_ssize_t n,
                            uint8_t *out, uint8_t *tag_out, int tag_length) except -1:
        cdef bytes result
        _check_keyed(self)
        aad = _join_aad(aad1, n1, aad2, n2, aad3, n3) if tag_length else b""
        result = self._aesgcm.encrypt(PyBytes_FromStringAndSize(<const char *>iv, 12),
                                      PyBytes_FromStringAndSize(<const char *>pt, n),
                                      aad)
        if n:
            memcpy(out, PyBytes_AS_STRING(result), n)
        if tag_length:
            memcpy(tag_out, PyBytes_AS_STRING(result) + n, tag_length)
        return 0

    cdef int _open(self, const uint8_t *iv,
                   const uint8_t *aad1, Py_ssize_t n1,
                   const uint8_t *aad2, Py_ssize_t n2,
                   const uint8_t *aad3, Py_ssize_t n3,
                   const uint8_t *ct, Py_ssize_t n,
                   uint8_t *out, const uint8_t *tag, int tag_length) except -1:
        """Decrypt n octets of ct into out; with a tag, raise TagError unless it checks.

        When the AAD holds the plaintext (authentication only), aad3 may be the
        very buffer ``out`` is written to: the caller passes n == 0 then.
        """
        cdef int outl = 0
        cdef void *ctx = self._dec
        cdef uint8_t tag_copy[16]
        _check_int(n, "ciphertext")
        _check_int(n1 + n2 + n3, "authenticated data")
        if not self._openssl:
            return self._open_fallback(iv, aad1, n1, aad2, n2, aad3, n3, ct, n, out, tag,
                                       tag_length)
        if dlmsfast_decrypt_init(ctx, NULL, NULL, iv) != 1:
            raise BackendError("EVP_DecryptInit_ex failed")
        if tag_length:
            _evp_aad(ctx, True, aad1, n1, aad2, n2, aad3, n3)
        if n and dlmsfast_decrypt_update(ctx, out, &outl, ct, <int>n) != 1:
            raise BackendError("EVP_DecryptUpdate failed")
        if tag_length:
            # SET_TAG takes a non-const pointer; hand it a private copy.
            memcpy(tag_copy, tag, tag_length)
            if dlmsfast_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, tag_length, tag_copy) != 1:
                raise BackendError("EVP_CTRL_GCM_SET_TAG failed")
            if dlmsfast_decrypt_final(ctx, out + n, &outl) != 1:
                raise TagError("authentication tag mismatch")
        return 0

    cdef int _open_fallback(self, const uint8_t *iv,
                            const uint8_t *aad1, Py_ssize_t n1,
                            const uint8_t *aad2, Py_ssize_t n2,
                            const uint8_t *aad3, Py_ssize_t n3,
                            const uint8_t *ct, Py_ssize_t n,
                            uint8_t *out, const uint8_t *tag, int tag_length) except -1:
        # GCM decryption is the same CTR keystream as encryption, so sealing
        # the ciphertext yields the plaintext; sealing that plaintext again
        # yields the expected tag. Two AESGCM calls cost far less than
        # building a Cipher/decryptor per APDU (the only way to pass a
        # 12-octet tag to cryptography's GCM decryption).
        cdef bytes plain, expected
        _check_keyed(self)
        iv_bytes = PyBytes_FromStringAndSize(<const char *>iv, 12)
        plain = self._aesgcm.encrypt(iv_bytes, PyBytes_FromStringAndSize(<const char *>ct, n),
                                     b"")[:n]
        if tag_length:
            aad = _join_aad(aad1, n1, aad2, n2, aad3, n3)
            expected = self._aesgcm.encrypt(iv_bytes, plain, aad)[n:n + tag_length]
            if not _compare_digest(expected,
                                   PyBytes_FromStringAndSize(<const char *>tag, tag_length)):
                raise TagError("authentication tag mismatch")
        if n:
            memcpy(out, PyBytes_AS_STRING(plain), n)
        return 0

    # -- Python API -----------------------------------------------------------

    def encrypt(self, iv, plaintext, aad=b"", tag_length=TAG_LENGTH):
        """Return ciphertext || tag (tag_length octets, 0 for none)."""
        cdef Py_buffer v_iv, v_pt, v_aad
        cdef bytes out
        cdef uint8_t *o
        if type(tag_length) is not int or tag_length not in (0, 12, 16):
            raise UsageError(f"tag length must be 0, 12 or 16, got {shown(tag_length)}")
        _get_buffer(iv, &v_iv, "IV")
        try:
            if v_iv.len != 12:
                raise UsageError(f"IV must be 12 octets, got {v_iv.len}")
            _get_buffer(plaintext, &v_pt, "plaintext")
            try:
                _get_buffer(aad, &v_aad, "AAD")
                try:
                    out = PyBytes_FromStringAndSize(NULL, v_pt.len + tag_length)
                    o = <uint8_t *>PyBytes_AS_STRING(out)
                    self._seal(<const uint8_t *>v_iv.buf, <const uint8_t *>v_aad.buf,
                               v_aad.len, NULL, 0, NULL, 0, <const uint8_t *>v_pt.buf,
                               v_pt.len, o, o + v_pt.len, tag_length)
                finally:
                    PyBuffer_Release(&v_aad)
            finally:
                PyBuffer_Release(&v_pt)
        finally:
            PyBuffer_Release(&v_iv)
        return out

    def decrypt(self, iv, ciphertext, tag=b"", aad=b""):
        """Return the plaintext; a non-empty ``tag`` is checked (TagError)."""
        cdef Py_buffer v_iv, v_ct, v_tag, v_aad
        cdef bytes out
        _get_buffer(iv, &v_iv, "IV")
        try:
            if v_iv.len != 12:
                raise UsageError(f"IV must be 12 octets, got {v_iv.len}")
            _get_buffer(tag, &v_tag, "tag")
            try:
                if v_tag.len not in (0, 12, 16):
                    raise UsageError(f"tag must be 0, 12 or 16 octets, got {v_tag.len}")
                _get_buffer(ciphertext, &v_ct, "ciphertext")
                try:
                    _get_buffer(aad, &v_aad, "AAD")
                    try:
                        out = PyBytes_FromStringAndSize(NULL, v_ct.len)
                        self._open(<const uint8_t *>v_iv.buf, <const uint8_t *>v_aad.buf,
                                   v_aad.len, NULL, 0, NULL, 0, <const uint8_t *>v_ct.buf,
                                   v_ct.len, <uint8_t *>PyBytes_AS_STRING(out),
                                   <const uint8_t *>v_tag.buf, <int>v_tag.len)
                    finally:
                        PyBuffer_Release(&v_aad)
                finally:
                    PyBuffer_Release(&v_ct)
            finally:
                PyBuffer_Release(&v_tag)
        finally:
            PyBuffer_Release(&v_iv)
        return out

    def seal_service(self, apdu_tag, security_control, system_title,
                     invocation_counter, authentication_key, plaintext):
        """Cipher ``plaintext`` into a whole glo-/ded- service-specific APDU.

        ``apdu_tag`` is the ciphered tag (e.g. 0xC8). The SC decides the form:
        bit 4 authentication (12-octet tag), bit 5 encryption. This is the
        bare framing: the rules of what may be sent (suite, compression, key
        choice, counters) are :class:`CipheringCore`'s.
        """
        cdef Py_buffer v_st, v_ak, v_pt
        cdef int tag = _int_argument(apdu_tag, "APDU tag", 0, 0xFF)
        cdef int sc = _int_argument(security_control, "security control", 0, 0xFF)
        cdef uint32_t ic = <uint32_t>_int_argument(invocation_counter, "invocation counter",
                                                   0, MAX_INVOCATION_COUNTER)
        _get_buffer(system_title, &v_st, "system title")
        try:
            if v_st.len != 8:
                raise ConfigurationError(f"system title must be 8 octets, got {v_st.len}")
            _get_buffer(authentication_key, &v_ak, "authentication key")
            try:
                _get_buffer(plaintext, &v_pt, "plaintext")
                try:
                    return _seal_service(self, <uint8_t>tag, <uint8_t>sc,
                                         <const uint8_t *>v_st.buf, ic,
                                         <const uint8_t *>v_ak.buf, v_ak.len,
                                         <const uint8_t *>v_pt.buf, v_pt.len)
                finally:
                    PyBuffer_Release(&v_pt)
            finally:
                PyBuffer_Release(&v_ak)
        finally:
            PyBuffer_Release(&v_st)




# ---------------------------------------------------------------------------
# The ciphering rules, written once. Green Book 9.2.7.2.3: the security
# control octet (SC) and what each of its bits allows.

cdef enum:
    _MAX_AAD_HEADER = 1 + 32   # SC || AK (AK of suite 2 is 32 octets)
    _SC_SUITE_MASK = 0x0F
    _SC_AUTHENTICATION = 0x10
    _SC_ENCRYPTION = 0x20
    _SC_BROADCAST = 0x40
    _SC_COMPRESSION = 0x80

SC_SUITE_MASK = _SC_SUITE_MASK
SC_AUTHENTICATION = _SC_AUTHENTICATION
SC_ENCRYPTION = _SC_ENCRYPTION
SC_BROADCAST_KEY = _SC_BROADCAST
SC_COMPRESSION = _SC_COMPRESSION
MAX_INVOCATION_COUNTER = 0xFFFFFFFF

# (plaintext tag, plaintext name, glo tag, ded tag) from the one tag table of the
# package (dlmsfast._tags, IEC 62056-5-3 xDLMS-APDU), turned into C lookups here.
from dlmsfast._tags import SERVICE_TAGS

cdef uint8_t _glo_tag[256]
cdef uint8_t _ded_tag[256]
cdef uint8_t _service_kind[256]   # 1 glo-, 2 ded- service-specific tag


cdef void _init_service_tags():
    cdef int i
    for i in range(256):
        _glo_tag[i] = _ded_tag[i] = _service_kind[i] = 0
    for plain, _, glo, ded in SERVICE_TAGS:
        _glo_tag[plain] = glo
        _ded_tag[plain] = ded
        _service_kind[glo] = 1
        _service_kind[ded] = 2


_init_service_tags()


cdef str _protection_names(int bits):
    return " and ".join([name for bit, name in ((_SC_AUTHENTICATION, "authentication"),
                                                (_SC_ENCRYPTION, "encryption"))
                         if bits & bit])


cdef inline int _sending_rules(int sc, int suite, bint dedicated) except -1:
    """What this side may send: a protecting SC of its own suite, uncompressed,
    and no broadcast key with the dedicated key (UsageError: the caller's choice)."""
    if not sc & (_SC_AUTHENTICATION | _SC_ENCRYPTION):
        raise UsageError(f"security control 0x{sc:02X} gives no protection "
                         "(set 0x10 authentication and/or 0x20 encryption)")
    if sc & _SC_SUITE_MASK != suite:
        raise UsageError(f"security control 0x{sc:02X} names suite {sc & _SC_SUITE_MASK}, "
                         f"this context uses suite {suite}")
    if sc & _SC_COMPRESSION:
        raise UsageError("compression (SC bit 7) is not supported")
    if dedicated and sc & _SC_BROADCAST:
        raise UsageError("ded- ciphering uses the dedicated key, not the broadcast key "
                         "(SC bit 6)")
    return 0


cdef inline int _receiving_rules(int sc, int64_t ic, int required, int64_t last_ic,
                                 bint dedicated) except -1:
    """What this side accepts, checked before any deciphering: some protection,
    at least the policy's (PolicyError), no compression, no broadcast key with
    the dedicated one, and an IC above the last accepted (ReplayError)."""
    if (sc & (_SC_AUTHENTICATION | _SC_ENCRYPTION) and (sc & required) == required
            and not sc & _SC_COMPRESSION and not (dedicated and sc & _SC_BROADCAST)
            and ic > last_ic):
        return 0
    return _refuse_received(sc, ic, required, last_ic, dedicated)


cdef int _refuse_received(int sc, int64_t ic, int required, int64_t last_ic,
                          bint dedicated) except -1:
    """The error of a header that breaks a receiving rule (off the per-APDU path)."""
    if not sc & (_SC_AUTHENTICATION | _SC_ENCRYPTION):
        # a ciphered APDU that is neither authenticated nor encrypted would let
        # clear text pass as deciphered
        raise PolicyError(f"security control 0x{sc:02X} gives no protection")
    if (sc & required) != required:
        raise PolicyError(f"security policy requires {_protection_names(required & ~sc)}; "
                          f"the APDU has security control 0x{sc:02X}")
    if sc & _SC_COMPRESSION:
        raise PolicyError("compressed APDUs (SC bit 7) are not supported")
    if dedicated and sc & _SC_BROADCAST:
        raise PolicyError("a ded- ciphered APDU cannot use the broadcast key (SC bit 6)")
    if ic <= last_ic:
        raise ReplayError(f"replayed invocation counter {ic} (last accepted {last_ic})")
    return 0


def check_received(security_control, invocation_counter, *, required_protection=0,
                   last_invocation_counter=-1, dedicated=False):
    """The receiving rules of :func:`_receiving_rules` for one security header
    (PolicyError, ReplayError), for parsers that are not the compiled path."""
    _receiving_rules(_int_argument(security_control, "security control", 0, 0xFF),
                    _int_argument(invocation_counter, "invocation counter", 0,
                                  MAX_INVOCATION_COUNTER),
                    _int_argument(required_protection, "required protection", 0,
                                  _SC_AUTHENTICATION | _SC_ENCRYPTION),
                    _int_argument(last_invocation_counter, "last invocation counter", -1,
                                  MAX_INVOCATION_COUNTER),
                    bool(dedicated))

cdef inline Py_ssize_t _length_octets(Py_ssize_t n):
    if n < 0x80:
        return 1
    if n < 0x100:
        return 2
    if n < 0x10000:
        return 3
    if n < 0x1000000:
        return 4
    return 5


cdef inline Py_ssize_t _write_length(uint8_t *o, Py_ssize_t n):
    cdef Py_ssize_t count = _length_octets(n), i
    if count == 1:
        o[0] = <uint8_t>n
        return 1
    o[0] = <uint8_t>(0x80 | (count - 1))
    for i in range(count - 1):
        o[count - 1 - i] = <uint8_t>(n >> (8 * i))
    return count


cdef inline int _aad_header(uint8_t *aad, uint8_t sc, const uint8_t *ak,
                            Py_ssize_t ak_len) except -1:
    """SC || AK into one buffer, so EVP gets one AAD update for both."""
    if ak_len > _MAX_AAD_HEADER - 1:
        raise UsageError(f"authentication key must be at most 32 octets, got {ak_len}")
    aad[0] = sc
    memcpy(aad + 1, ak, ak_len)
    return 0


cdef bytes _seal_service(AesGcm cipher, uint8_t apdu_tag, uint8_t sc, const uint8_t *st,
                         uint32_t ic, const uint8_t *ak, Py_ssize_t ak_len,
                         const uint8_t *pt, Py_ssize_t n, bint carry_title=False):
    """tag | length | SC | IC | information | T, written straight into the result.

    With ``carry_title`` (general-glo/-ded-ciphering) the system title goes
    after the tag as an octet-string: tag | 08 | ST | length | SC | ...
    """
    cdef uint8_t iv[12]
    cdef uint8_t aad[_MAX_AAD_HEADER]
    cdef int tag_length = 12 if sc & _SC_AUTHENTICATION else 0
    cdef Py_ssize_t content = 5 + n + tag_length, pos
    cdef bytes out
    cdef uint8_t *o
    _aad_header(aad, sc, ak, ak_len)
    memcpy(iv, st, 8)
    iv[8] = <uint8_t>(ic >> 24)
    iv[9] = <uint8_t>(ic >> 16)
    iv[10] = <uint8_t>(ic >> 8)
    iv[11] = <uint8_t>ic
    out = PyBytes_FromStringAndSize(NULL, 1 + 9 * carry_title + _length_octets(content)
                                    + content)
    o = <uint8_t *>PyBytes_AS_STRING(out)
    o[0] = apdu_tag
    pos = 1
    if carry_title:
        o[1] = 8
        memcpy(o + 2, st, 8)
        pos = 10
    pos += _write_length(o + pos, content)
    o[pos] = sc
    memcpy(o + pos + 1, iv + 8, 4)
    pos += 5
    if sc & _SC_ENCRYPTION:
        cipher._seal(iv, aad, 1 + ak_len, NULL, 0, NULL, 0, pt, n, o + pos, o + pos + n,
                     tag_length)
    else:
        memcpy(o + pos, pt, n)
        if tag_length:
            cipher._seal(iv, aad, 1 + ak_len, pt, n, NULL, 0, NULL, 0, NULL, o + pos + n,
                         tag_length)
    return out


cdef Py_ssize_t _read_length(const uint8_t *d, Py_ssize_t at, Py_ssize_t end,
                             Py_ssize_t *length) except -1:
    """A-XDR length at ``at``, bounded by the octets that follow; returns where they start."""
    cdef Py_ssize_t count, i, start = at
    cdef uint64_t n
    if at >= end:
        raise DecodeError("length octet missing", at)
    n = d[at]
    if n < 0x80:
        at += 1
    else:
        count = n & 0x7F
        if count == 0 or count > 4:
            raise DecodeError(f"unsupported length form 0x{n:02X}", at)
        if count > end - at - 1:
            raise DecodeError("length octets truncated", at)
        # accumulated in 64 bits: four octets overflow a 32-bit Py_ssize_t
        n = 0
        for i in range(count):
            n = (n << 8) | d[at + 1 + i]
        at += 1 + count
    if n > <uint64_t>(end - at):
        raise DecodeError(f"length {n} exceeds the {end - at} octets present", start)
    length[0] = <Py_ssize_t>n
    return at


cdef bytes _open_service(const uint8_t *d, Py_ssize_t end, Py_ssize_t length_at,
                         const uint8_t *st, const uint8_t *ak, Py_ssize_t ak_len,
                         AesGcm cipher, AesGcm broadcast_cipher, int64_t last_ic,
                         int required, bint dedicated, uint32_t *ic_out):
    """Check the structure and the receiving rules, then decipher and check the tag.

    The ciphered content (SC || IC || information || T) is an octet-string
    whose length octets start at ``length_at`` and which ends the APDU.
    """
    cdef Py_ssize_t pos, length, info_len
    cdef uint8_t iv[12]
    cdef uint8_t aad[_MAX_AAD_HEADER]
    cdef uint8_t sc
    cdef uint32_t ic
    cdef int tag_length
    cdef bytes out
    pos = _read_length(d, length_at, end, &length)
    if length < end - pos:
        raise DecodeError(f"{end - pos - length} trailing octets after the APDU", pos + length)
    if length < 5:
        raise DecodeError("ciphered content shorter than the security header (SC + IC)", pos)
    sc = d[pos]
    ic = ((<uint32_t>d[pos + 1] << 24) | (<uint32_t>d[pos + 2] << 16)
          | (<uint32_t>d[pos + 3] << 8) | <uint32_t>d[pos + 4])
    tag_length = 12 if sc & _SC_AUTHENTICATION else 0
    info_len = length - 5 - tag_length
    if info_len < 0:
        raise DecodeError(
            f"ciphered content too short for the {tag_length}-octet authentication tag",
            pos + 5)
    _receiving_rules(sc, ic, required, last_ic, dedicated)
    if sc & _SC_BROADCAST:
        if broadcast_cipher is None:
            # the peer chose a key this side does not hold: its protection is refused
            raise PolicyError("the APDU asks for the broadcast key, which this side does not hold")
        cipher = broadcast_cipher
    _aad_header(aad, sc, ak, ak_len)
    memcpy(iv, st, 8)
    memcpy(iv + 8, d + pos + 1, 4)
    pos += 5
    out = PyBytes_FromStringAndSize(NULL, info_len)
    if sc & _SC_ENCRYPTION:
        cipher._open(iv, aad, 1 + ak_len, NULL, 0, NULL, 0, d + pos, info_len,
                     <uint8_t *>PyBytes_AS_STRING(out), d + pos + info_len, tag_length)
    else:
        if tag_length:
            cipher._open(iv, aad, 1 + ak_len, d + pos, info_len, NULL, 0, NULL, 0, NULL,
                         d + pos + info_len, tag_length)
        memcpy(PyBytes_AS_STRING(out), d + pos, info_len)
    ic_out[0] = ic
    return out


def open_service(data, system_title, authentication_key, cipher,
                 broadcast_cipher=None, last_invocation_counter=-1,
                 required_protection=0):
    """Decipher a whole glo-/ded- service-specific APDU; return (SC, IC, plaintext).

    The caller has chosen ``cipher`` from the tag (glo: unicast key, ded:
    dedicated key); ``broadcast_cipher`` serves SC with the key-set bit.
    An IC not above ``last_invocation_counter`` is a ReplayError and an SC
    without every bit of ``required_protection`` (0x10 authentication, 0x20
    encryption: the receiver's security policy) a PolicyError, both checked
    before any decryption; a wrong tag is a TagError; a malformed structure a
    DecodeError with the offset.
    """
    cdef Py_buffer v_data, v_st, v_ak
    cdef uint32_t ic = 0
    cdef bytes out
    cdef const uint8_t *d
    if not isinstance(cipher, AesGcm):
        raise UsageError(f"cipher must be an AesGcm, got {type(cipher).__name__}")
    if broadcast_cipher is not None and not isinstance(broadcast_cipher, AesGcm):
        raise UsageError("broadcast_cipher must be an AesGcm or None, "
                         f"got {type(broadcast_cipher).__name__}")
    cdef int64_t last = _int_argument(last_invocation_counter, "last invocation counter",
                                      -1, MAX_INVOCATION_COUNTER)
    cdef int required = _int_argument(required_protection, "required protection", 0,
                                      _SC_AUTHENTICATION | _SC_ENCRYPTION)
    _get_buffer(system_title, &v_st, "system title")
    try:
        if v_st.len != 8:
            raise ConfigurationError(f"system title must be 8 octets, got {v_st.len}")
        _get_buffer(authentication_key, &v_ak, "authentication key")
        try:
            _get_buffer(data, &v_data, "APDU")
            try:
                d = <const uint8_t *>v_data.buf
                if v_data.len == 0:
                    raise DecodeError("empty APDU", 0)
                if _service_kind[d[0]] == 0:
                    raise DecodeError(f"0x{d[0]:02X} is not a glo-/ded- ciphered APDU tag", 0)
                out = _open_service(d, v_data.len, 1, <const uint8_t *>v_st.buf,
                                    <const uint8_t *>v_ak.buf, v_ak.len, cipher,
                                    broadcast_cipher, last, required,
                                    _service_kind[d[0]] == 2, &ic)
                return _sc_of(d), ic, out
            finally:
                PyBuffer_Release(&v_data)
        finally:
            PyBuffer_Release(&v_ak)
    finally:
        PyBuffer_Release(&v_st)


cdef inline int _sc_of(const uint8_t *d):
    """SC octet of a service-specific APDU whose structure was already checked."""
    return d[2] if d[1] < 0x80 else d[2 + (d[1] & 0x7F)]


# ---------------------------------------------------------------------------
# The per-APDU path of SecurityContext. The state lives here so that ciphering
# or deciphering one glo-/ded- APDU is one C call; SecurityContext (Python,
# dlmsfast.security.context) subclasses it and adds general-ciphering, the
# explain steps and the settings, calling back here for every rule.

cdef class CipheringCore


cdef int _write_ahead(CipheringCore core, int64_t ic) except -1:
    """Let the caller persist ``ic`` before it is used (see CipheringCore)."""
    cdef int64_t until
    result = core._on_invocation_counter(ic)
    if result is None:
        until = ic + 1
    else:
        until = _int_argument(result, "the invocation counter hook's result", ic + 1,
                              MAX_INVOCATION_COUNTER + 1)
    if until > core._persisted_until:
        core._persisted_until = until
    return 0


cdef int64_t _reserve_invocation_counter(CipheringCore core) except -1:
    """Reserve the next IC. No Python code runs between the read and the
    increment, so two threads never get the same IC (an IV must never repeat);
    an IC whose APDU then fails is skipped, never reused. The write-ahead hook
    runs before: when it raises, nothing is reserved."""
    cdef int64_t ic
    while True:
        ic = core._invocation_counter
        if ic > MAX_INVOCATION_COUNTER:
            raise ConfigurationError("invocation counter exhausted: renew the keys")
        if core._on_invocation_counter is None or ic < core._persisted_until:
            core._invocation_counter = ic + 1
            return ic
        # the hook is Python code: another thread may take this IC meanwhile,
        # so read the counter again afterwards
        _write_ahead(core, ic)


cdef inline int _accept_invocation_counter(CipheringCore core, int64_t ic) except -1:
    """Record a checked APDU's IC, refusing it if another call accepted this IC
    or a later one meanwhile (check and update with no Python code between)."""
    if ic <= core._peer_invocation_counter:
        raise ReplayError(
            f"replayed invocation counter {ic} (last accepted {core._peer_invocation_counter})")
    core._peer_invocation_counter = ic
    return 0


_KEY_NAMES = ("global unicast key (block cipher key)", "global broadcast key", "dedicated key")


cdef inline AesGcm _key_for(CipheringCore core, int sc, bint dedicated, bint received):
    """The key an APDU uses: the dedicated key, else the broadcast or unicast
    key by SC bit 6. A missing one: see _no_key."""
    cdef AesGcm cipher
    if dedicated:
        cipher = core._dedicated
    elif sc & _SC_BROADCAST:
        cipher = core._broadcast
    else:
        cipher = core._unicast
    if cipher is None:
        _no_key(2 if dedicated else (1 if sc & _SC_BROADCAST else 0), received)
    return cipher


cdef int _no_key(int which, bint received) except -1:
    """A missing key is this side's configuration (ConfigurationError) when
    sending; when a received APDU names a key this side does not hold, the
    peer's protection is refused (PolicyError, a RemoteError: a hostile peer
    cannot make a receiver raise a local error)."""
    if received:
        raise PolicyError(f"the APDU asks for the {_KEY_NAMES[which]}, which this side "
                          "does not hold")
    raise ConfigurationError(f"no {_KEY_NAMES[which]} is set")


@cython.auto_pickle(False)
cdef class CipheringCore:
    """Keys, titles and counters of one association, every ciphering rule, and
    the glo-/ded-/general-glo-/general-ded- fast path.

    Subclasses provide ``_encrypt_general(apdu, sc, form, transaction_id,
    date_time, other_information, key_info) -> bytes`` and
    ``_decrypt_general(data, system_title) -> bytes`` for general-ciphering,
    and call :meth:`_check_sending`, :meth:`_check_received`,
    :meth:`_cipher_for`, :meth:`_take_invocation_counter` and
    :meth:`_accept_peer_invocation_counter` for its rules.

    Invocation counter write-ahead: ``_on_invocation_counter`` (a callable or
    None) is called with an IC before any APDU carrying it is ciphered. It
    returns None (it has persisted that IC: it is called again for the next)
    or an int ``limit`` above it (ICs below ``limit`` are covered: it is not
    called again until the counter reaches ``limit``). When it raises, the
    exception propagates, nothing is ciphered and the IC is not consumed.
    """

    cdef public bytes _system_title
    cdef public object _peer_system_title
    cdef public bytes _ak
    cdef public AesGcm _unicast
    cdef public AesGcm _broadcast
    cdef public AesGcm _dedicated
    cdef readonly int64_t _invocation_counter
    cdef public int64_t _peer_invocation_counter
    cdef readonly int64_t _persisted_until
    cdef readonly object _on_invocation_counter
    cdef public int _suite
    cdef public int _security_policy

    def __cinit__(self):
        self._peer_invocation_counter = -1   # nothing accepted yet

    def __reduce__(self):
        raise UsageError(f"{type(self).__name__} holds keys: it is neither pickled nor copied")

    def __copy__(self):
        self.__reduce__()

    def __deepcopy__(self, memo):
        self.__reduce__()

    # -- the rules, for the Python subclass ------------------------------------

    cdef int _sending_sc(self, object security_control, bint dedicated) except -1:
        value = getattr(security_control, "value", security_control)
        cdef int sc = <int>_int_argument(value, "security control", 0, 0xFF)
        _sending_rules(sc, self._suite, dedicated)
        return sc

    def _check_sending(self, security_control, bint dedicated=False):
        """The SC value to send (an int or anything with ``.value``), checked."""
        return self._sending_sc(security_control, dedicated)

    def _check_received(self, int sc, int64_t ic, bint dedicated=False):
        """The receiving rules against this context's policy and peer IC."""
        _receiving_rules(sc, ic, self._security_policy, self._peer_invocation_counter,
                        dedicated)

    def _cipher_for(self, int sc, bint dedicated=False, bint received=False):
        """(AesGcm, key name) for an APDU: the dedicated key, else the broadcast
        or unicast key by SC bit 6 (see _key_for for a missing one)."""
        cipher = _key_for(self, sc, dedicated, received)
        return cipher, _KEY_NAMES[2 if dedicated else (1 if sc & _SC_BROADCAST else 0)]

    def _set_invocation_counter(self, value):
        """Move the next IC forward; never back (an IV must never repeat under a key)."""
        cdef int64_t ic = _int_argument(value, "invocation counter", 0,
                                        MAX_INVOCATION_COUNTER + 1)
        if ic < self._invocation_counter:
            raise UsageError(
                f"invocation counter {ic} is below the next one ({self._invocation_counter}): "
                "ICs already used would be used again under the same key")
        self._invocation_counter = ic

    def _set_on_invocation_counter(self, hook):
        if hook is not None and not callable(hook):
            raise UsageError(f"on_invocation_counter must be callable or None, "
                             f"got {type(hook).__name__}")
        self._on_invocation_counter = hook
        self._persisted_until = 0

    def _take_invocation_counter(self):
        """Reserve the next IC (see _reserve_invocation_counter)."""
        return _reserve_invocation_counter(self)

    def _accept_peer_invocation_counter(self, int64_t ic):
        """Record a checked APDU's IC (see _accept_invocation_counter)."""
        _accept_invocation_counter(self, ic)

    # -- the fast path -----------------------------------------------------------

    def encrypt(self, apdu, *, security_control=None, form="glo", transaction_id=None,
                date_time=None, other_information=None, key_info=None):
        """Cipher a plaintext xDLMS APDU with the next invocation counter."""
        cdef Py_buffer v_pt
        cdef int sc, carry_title
        cdef bint dedicated
        cdef uint8_t tag
        cdef AesGcm cipher
        cdef bytes out
        cdef bytes ak = self._ak, title = self._system_title
        cdef int64_t ic
        if form == "glo" or form == "ded":
            carry_title = False
        elif form == "general-glo" or form == "general-ded":
            carry_title = True
        else:
            carry_title = -1
        dedicated = form == "ded" or form == "general-ded"
        if security_control is None:
            sc = _SC_AUTHENTICATION | _SC_ENCRYPTION | self._suite
        else:
            sc = self._sending_sc(security_control, dedicated)
        if carry_title < 0 or not (transaction_id is None and date_time is None
                                   and other_information is None and key_info is None):
            return self._encrypt_general(apdu, sc, form, transaction_id, date_time,
                                         other_information, key_info)
        cipher = _key_for(self, sc, dedicated, False)
        # the fields are public to the Python subclass: check what C reads blindly
        if title is None or len(title) != 8 or ak is None:
            raise ConfigurationError("the system title (8 octets) and authentication key "
                                     "must be set")
        _get_buffer(apdu, &v_pt, "APDU")
        try:
            tag = 0
            if carry_title:
                # any APDU may travel in general-glo/-ded-ciphering
                tag = 0xDC if dedicated else 0xDB
            elif v_pt.len and dedicated:
                tag = _ded_tag[(<const uint8_t *>v_pt.buf)[0]]
            elif v_pt.len:
                tag = _glo_tag[(<const uint8_t *>v_pt.buf)[0]]
            if tag == 0:
                raise UsageError(
                    f"{form}-ciphering needs an xDLMS APDU with a ciphered form "
                    "(initiate, get, set, action, event-notification, ...)")
            ic = _reserve_invocation_counter(self)
            out = _seal_service(cipher, tag, <uint8_t>sc,
                                <const uint8_t *>PyBytes_AS_STRING(title), <uint32_t>ic,
                                <const uint8_t *>PyBytes_AS_STRING(ak), len(ak),
                                <const uint8_t *>v_pt.buf, v_pt.len, carry_title)
        finally:
            PyBuffer_Release(&v_pt)
        return out

    def decrypt(self, data, *, system_title=None):
        """Decipher and check any ciphered APDU; return the plaintext APDU.

        Wrong tag: TagError; replayed IC: ReplayError; an SC below the
        security policy: PolicyError; malformed: DecodeError with the offset.
        ``system_title`` overrides the peer system title for the IV (the
        general forms carry their own).
        """
        cdef Py_buffer v_data, v_st
        cdef const uint8_t *d
        cdef const uint8_t *carried = NULL
        cdef int kind
        cdef bint dedicated
        cdef uint32_t ic = 0
        cdef Py_ssize_t length_at = 1, title_length
        cdef AesGcm cipher
        cdef bytes out, ak = self._ak
        cdef object title = system_title if system_title is not None else self._peer_system_title
        _get_buffer(data, &v_data, "APDU")
        try:
            d = <const uint8_t *>v_data.buf
            if v_data.len == 0:
                raise DecodeError("empty APDU", 0)
            kind = _service_kind[d[0]]
            if kind == 0 and (d[0] == 0xDB or d[0] == 0xDC):
                # general-glo-/general-ded-ciphering: the sender's system
                # title travels in the APDU (empty: the peer's is meant)
                kind = 1 if d[0] == 0xDB else 2
                length_at = _read_length(d, 1, v_data.len, &title_length)
                if title_length == 8:
                    carried = d + length_at
                elif title_length:
                    raise DecodeError(f"system title must be 8 octets for the IV, "
                                      f"got {title_length}", 1)
                length_at += title_length
            elif kind == 0:
                return self._decrypt_general(data, system_title)
            dedicated = kind == 2
            # the unicast key is the default; _open_service swaps in the
            # broadcast key when SC asks for it, after checking the rules
            cipher = _key_for(self, 0, dedicated, True)
            if ak is None:
                raise ConfigurationError("the authentication key must be set")
            if carried != NULL:
                out = _open_service(d, v_data.len, length_at, carried,
                                    <const uint8_t *>PyBytes_AS_STRING(ak), len(ak), cipher,
                                    self._broadcast, self._peer_invocation_counter,
                                    self._security_policy, dedicated, &ic)
            else:
                if title is None:
                    raise ConfigurationError("the peer system title is unknown: "
                                             "pass system_title=")
                _get_buffer(title, &v_st, "system title")
                try:
                    if v_st.len != 8:
                        raise ConfigurationError(f"system title must be 8 octets, "
                                                 f"got {v_st.len}")
                    out = _open_service(d, v_data.len, length_at, <const uint8_t *>v_st.buf,
                                        <const uint8_t *>PyBytes_AS_STRING(ak), len(ak),
                                        cipher, self._broadcast,
                                        self._peer_invocation_counter,
                                        self._security_policy, dedicated, &ic)
                finally:
                    PyBuffer_Release(&v_st)
        finally:
            PyBuffer_Release(&v_data)
        _accept_invocation_counter(self, ic)
        return out
