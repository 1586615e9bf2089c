"""Personal data at rest: AES-256-GCM for values, a keyed HMAC-SHA256 as their blind index.

One secret, PII_ENCRYPTION_KEY (base64 of 32 bytes, from the environment, never the database),
is stretched with HKDF into an encryption key and an index key, so neither is used for both.
A ciphertext is version byte + 12-byte random nonce + AES-GCM output; the associated data
names the row and field it belongs to, so a ciphertext copied to another row does not decrypt.
The blind index is deterministic: equal values have equal indexes, which is what a unique
constraint and an exact lookup need, and nothing else can be learnt from it without the key.
"""

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = b"\x01"
NONCE_BYTES = 12


def pii_key_decode(value: str) -> bytes:
    """The 32 key bytes of a base64 PII_ENCRYPTION_KEY; ImproperlyConfigured if it is not one."""
    try:
        key = base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEY must be the base64 encoding of 32 bytes.")
    return key


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    master = pii_key_decode(secret)

    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)

    return derive(b"mall pii aes-gcm v1"), derive(b"mall pii blind index v1")


def pii_encrypt(plaintext: str, *, context: str) -> bytes:
    """Encrypt `plaintext` for the place `context` names (e.g. "members.member:42:national_id")."""
    encryption_key, _index_key = _keys(settings.PII_ENCRYPTION_KEY)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(encryption_key).encrypt(nonce, plaintext.encode(), context.encode())
    return VERSION + nonce + sealed


def pii_decrypt(token: bytes | memoryview, *, context: str) -> str:
    """The plaintext of a pii_encrypt() result; InvalidTag if it was altered or moved."""
    token = bytes(token)
    if token[:1] != VERSION:
        raise ValueError("unknown PII ciphertext version")
    encryption_key, _index_key = _keys(settings.PII_ENCRYPTION_KEY)
    nonce, sealed = token[1 : 1 + NONCE_BYTES], token[1 + NONCE_BYTES :]
    return AESGCM(encryption_key).decrypt(nonce, sealed, context.encode()).decode()


def pii_blind_index(value: str, *, kind: str) -> str:
    """Hex HMAC of `value`; `kind` ("national_id") keeps indexes of different fields apart."""
    _encryption_key, index_key = _keys(settings.PII_ENCRYPTION_KEY)
    return hmac.new(index_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
