"""Optional payload encryption: a Temporal PayloadCodec with AES-256-GCM.

With SHIXIAN_PAYLOAD_KEY set (32 random bytes, base64; `shixian codec-server --new-key`
prints one), every payload shixian's client and worker send — workflow inputs, update and
signal arguments, query results, activity inputs — is stored on the Temporal server
encrypted: metadata `encoding: binary/encrypted` and `encryption-key-id`, data = 12-byte
nonce + ciphertext of the serialized payload. Keys named in SHIXIAN_PAYLOAD_OLD_KEYS
(comma-separated) still decrypt, so a key can be rotated without losing old histories.

Not encrypted, by Temporal's design: search attributes (ShixianOwner, ShixianStage, …),
workflow ids (project-<id>), task queue names, timer and failure messages (refusal
reasons). Keep personal data out of them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from shixian.compression import CodecChain, CompressionCodec
from shixian.errors import UserError

KEY_ENV = "SHIXIAN_PAYLOAD_KEY"
OLD_KEYS_ENV = "SHIXIAN_PAYLOAD_OLD_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


def new_key() -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def _key(text: str, env: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{env}: not valid base64; make a key with "
                        "`shixian codec-server --new-key`") from None
    if len(raw) != 32:
        raise UserError(f"{env}: {len(raw)} bytes, an AES-256 key has 32; make one with "
                        "`shixian codec-server --new-key`")
    return raw


def key_id(key: bytes) -> str:
    """Names the key in each payload without revealing it."""
    return "k" + hashlib.sha256(b"shixian-payload-key\n" + key).hexdigest()[:15]


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole serialized payload; decrypts with any known key."""

    def __init__(self, key: bytes, old_keys: Sequence[bytes] = ()) -> None:
        self.key_id = key_id(key)
        # imported here: a process without a key (most CLI calls) never loads OpenSSL
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._current = AESGCM(key)
        self._keys = {key_id(k): AESGCM(k) for k in (*old_keys, key)}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            nonce = os.urandom(12)
            sealed = self._current.encrypt(nonce, payload.SerializeToString(), None)
            out.append(Payload(metadata={"encoding": ENCODING,
                                         KEY_ID: self.key_id.encode()},
                               data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # written before encryption was turned on
                continue
            kid = payload.metadata.get(KEY_ID, b"").decode()
            aead = self._keys.get(kid)
            if aead is None:
                raise UserError(
                    f"a payload is encrypted with key id {kid}, which this process does not "
                    f"have (SHIXIAN_PAYLOAD_KEY is {self.key_id}); add the old key to "
                    f"{OLD_KEYS_ENV}")
            out.append(Payload.FromString(aead.decrypt(payload.data[:12], payload.data[12:],
                                                       None)))
        return out


class RefuseEncrypted(PayloadCodec):
    """Without a key: plain payloads pass, an encrypted one is a one-line error, not a trace."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        for payload in payloads:
            if payload.metadata.get("encoding") == ENCODING:
                kid = payload.metadata.get(KEY_ID, b"").decode()
                raise UserError(f"the project's data is encrypted (key id {kid}) and "
                                f"{KEY_ENV} is not set: set it to the workers' key")
        return list(payloads)


def codec_from_env() -> EncryptionCodec | None:
    """The codec when SHIXIAN_PAYLOAD_KEY is set, else None (payloads stay plain JSON)."""
    text = os.environ.get(KEY_ENV, "").strip()
    if not text:
        return None
    old = [_key(t, OLD_KEYS_ENV) for t in os.environ.get(OLD_KEYS_ENV, "").split(",")
           if t.strip()]
    return EncryptionCodec(_key(text, KEY_ENV), old)


def payload_codec() -> CodecChain:
    """This process's codec: large payloads compressed, then encrypted when
    SHIXIAN_PAYLOAD_KEY is set (the codec server serves the same chain)."""
    return CodecChain(CompressionCodec(), codec_from_env() or RefuseEncrypted())
