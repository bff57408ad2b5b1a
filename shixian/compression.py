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

import struct
import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/zlib"
MIN_BYTES = 2048
# No payload shixian writes comes near this; a larger one is refused, not inflated.
MAX_INFLATED = 16 * 1024 * 1024
LEVEL = 6
ZLIB_HEADER = b"\x78\x9c"  # deflate, 32 KB window, the default level (RFC 1950)
# A start input's data leads with its policy pack, this many bytes (`shixian.converter`).
PACK_BYTES = "shixian-pack-bytes"
PACK_HEAD = b'{"pack":'
# pack bytes -> the pack deflated on its own (raw deflate ending in a full flush)
_DEFLATED_PACKS: dict[bytes, bytes] = {}


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
    packed = _deflate_around_pack(payload, raw) or zlib.compress(raw, LEVEL)
    if len(packed) * 4 > len(raw) * 3:
        return payload
    return Payload(metadata={"encoding": ENCODING}, data=packed)


def _deflate_around_pack(payload: Payload, raw: bytes) -> bytes | None:
    """A start input deflated with its pack's deflated form reused: every project started
    under one pack carries the same ~35 KB, and deflating them was ~0.4 of the ~1.3 ms of
    CPU `shixian start` spends per project once checked (issue #12). The stream is one
    ordinary zlib stream (any inflater reads it): the bytes before the pack, the pack and
    the bytes after it are deflated apart, each piece but the last ending in a full flush
    (byte-aligned, referring to nothing before it), with one checksum over them all. None
    when the payload is not pack-first; the caller then deflates it whole."""
    size = payload.metadata.get(PACK_BYTES)
    data = payload.data
    if size is None or not data.startswith(PACK_HEAD) or not raw.endswith(data):
        return None
    try:
        n = int(size)
    except ValueError:
        return None
    start = len(raw) - len(data) + len(PACK_HEAD)  # the data is serialized last
    if n <= 0 or start + n > len(raw):
        return None
    before, pack, after = raw[:start], raw[start:start + n], raw[start + n:]
    deflated = _DEFLATED_PACKS.get(pack)
    if deflated is None:
        if len(_DEFLATED_PACKS) >= 16:  # a handful of packs in any one process
            _DEFLATED_PACKS.clear()
        deflated = _DEFLATED_PACKS[pack] = _raw_deflate(pack, zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(after, zlib.adler32(pack, zlib.adler32(before)))
    return b"".join((ZLIB_HEADER, _raw_deflate(before, zlib.Z_FULL_FLUSH), deflated,
                     _raw_deflate(after, zlib.Z_FINISH), struct.pack(">I", checksum)))


def _raw_deflate(data: bytes, end: int) -> bytes:
    stream = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return stream.compress(data) + stream.flush(end)


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
