"""AES-GCM with 12-octet tags through OpenSSL EVP (or the cryptography fallback),
and every ciphering rule (CipheringCore)."""
from typing import Any, Callable, Literal

from typing_extensions import Buffer

from .ciphered import AgreedKey, IdentifiedKey, WrappedKey

TAG_LENGTH: int
BACKENDS: tuple[str, str]
backend: Literal["openssl", "cryptography"]
openssl_available: bool
openssl_library: str | None
openssl_version: str | None

SC_SUITE_MASK: int
SC_AUTHENTICATION: int
SC_ENCRYPTION: int
SC_BROADCAST_KEY: int
SC_COMPRESSION: int
MAX_INVOCATION_COUNTER: int
SERVICE_TAGS: tuple[tuple[int, str, int, int], ...]

class AesGcm:
    key_bits: int
    def __init__(self, key: Buffer, backend: str | None = ...) -> None: ...
    @property
    def backend(self) -> Literal["openssl", "cryptography"]: ...
    def encrypt(self, iv: Buffer, plaintext: Buffer, aad: Buffer = ...,
                tag_length: int = ...) -> bytes: ...
    def decrypt(self, iv: Buffer, ciphertext: Buffer, tag: Buffer = ...,
                aad: Buffer = ...) -> bytes: ...
    def seal_service(self, apdu_tag: int, security_control: int, system_title: Buffer,
                     invocation_counter: int, authentication_key: Buffer,
                     plaintext: Buffer) -> bytes: ...

def open_service(data: Buffer, system_title: Buffer, authentication_key: Buffer,
                 cipher: AesGcm, broadcast_cipher: AesGcm | None = ...,
                 last_invocation_counter: int = ...,
                 required_protection: int = ...) -> tuple[int, int, bytes]: ...

def check_received(security_control: int, invocation_counter: int, *,
                   required_protection: int = ..., last_invocation_counter: int = ...,
                   dedicated: bool = ...) -> None: ...

class CipheringCore:
    _invocation_counter: int
    _persisted_until: int
    _on_invocation_counter: Callable[[int], int | None] | None
    def encrypt(self, apdu: Buffer, *, security_control: int | None = ...,
                form: str = ...,
                transaction_id: bytes | None = ..., date_time: bytes | None = ...,
                other_information: bytes | None = ...,
                key_info: IdentifiedKey | WrappedKey | AgreedKey | None = ...) -> bytes: ...
    def decrypt(self, data: Buffer, *, system_title: Buffer | None = ...) -> bytes: ...
    def _check_sending(self, security_control: Any, dedicated: bool = ...) -> int: ...
    def _check_received(self, sc: int, ic: int, dedicated: bool = ...) -> None: ...
    def _cipher_for(self, sc: int, dedicated: bool = ...,
                    received: bool = ...) -> tuple[AesGcm, str]: ...
    def _set_invocation_counter(self, value: int) -> None: ...
    def _set_on_invocation_counter(self, hook: Callable[[int], int | None] | None) -> None: ...
    def _take_invocation_counter(self) -> int: ...
    def _accept_peer_invocation_counter(self, ic: int) -> None: ...
