"""AES-GCM with 12-octet tags through OpenSSL EVP (or the cryptography fallback)."""
from typing import Literal

from typing_extensions import Buffer

TAG_LENGTH: int
BACKENDS: tuple[str, str]
backend: Literal["openssl", "cryptography"]
openssl_available: bool
openssl_library: str | None
openssl_version: str | None

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

def set_service_tags(glo: Buffer, ded: Buffer) -> None: ...

class CipheringCore:
    def encrypt(self, apdu: Buffer, *, security_control: int | None = ..., form: str = ...,
                transaction_id: bytes | None = ..., date_time: bytes | None = ...,
                other_information: bytes | None = ..., key_info: object = ...) -> bytes: ...
    def decrypt(self, data: Buffer, *, system_title: Buffer | None = ...) -> bytes: ...
