"""Large payloads travel and are stored zlib-compressed (issue #12).

A project's start input carries its policy pack (~35 KB of JSON); the Temporal server
stores it in the history and the worker's core keeps several copies of it for every cached
project (measured: a 40 KB input costs a bare workflow ~210 KB of worker memory). Deflated,
the pack is a fraction of that. Payloads under `MIN_BYTES`, or that would not shrink by a
quarter, stay as they are, so documents, updates and query answers remain plain JSON in
the Web UI.

A compressed payload is `encoding: binary/zlib` with the whole serialized inner payload
(its own metadata included) deflated as data. Decoding passes any other payload through,
so histories written before compression, or by a client without it, read as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/zlib"
MIN_BYTES = 2048
# No payload shixian writes comes near this; a larger one is refused, not inflated.
MAX_INFLATED = 16 * 1024 * 1024


class CompressionCodec(PayloadCodec):
    """Deflates payloads of `MIN_BYTES` or more when that saves a quarter."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [compress(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [inflate(p) for p in payloads]


def compress(payload: Payload) -> Payload:
    if payload.metadata.get("encoding") == ENCODING:
        return payload
    raw = payload.SerializeToString()
    if len(raw) < MIN_BYTES:
        return payload
    packed = zlib.compress(raw, 6)
    if len(packed) * 4 > len(raw) * 3:
        return payload
    return Payload(metadata={"encoding": ENCODING}, data=packed)


def inflate(payload: Payload) -> Payload:
    if payload.metadata.get("encoding") != ENCODING:
        return payload
    stream = zlib.decompressobj()
    try:
        raw = stream.decompress(payload.data, MAX_INFLATED)
    except zlib.error as exc:
        raise ValueError(f"a compressed payload is damaged: {exc}") from None
    if stream.unconsumed_tail:
        raise ValueError(f"a compressed payload inflates past {MAX_INFLATED} bytes")
    return Payload.FromString(raw)


class CodecChain(PayloadCodec):
    """Codecs applied in order on encode and in reverse on decode (compress, then encrypt:
    ciphertext does not compress)."""

    def __init__(self, *codecs: PayloadCodec) -> None:
        self.codecs = codecs

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = list(payloads)
        for codec in self.codecs:
            out = await codec.encode(out)
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = list(payloads)
        for codec in reversed(self.codecs):
            out = await codec.decode(out)
        return out
