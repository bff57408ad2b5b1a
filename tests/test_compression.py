"""Large payloads are stored compressed; everything else, and every older history, reads
as before (issue #12: a project's start input is mostly its policy pack)."""

from __future__ import annotations

import json
import os
import zlib
from datetime import date

import pytest
from temporalio.api.common.v1 import Payload

from calendars import WorkCalendar
from shixian import operations
from shixian.codec import ENCODING as ENCRYPTED
from shixian.codec import EncryptionCodec
from shixian.compression import (
    ENCODING,
    MAX_INFLATED,
    MIN_BYTES,
    PACK_BYTES,
    PACK_HEAD,
    CodecChain,
    CompressionCodec,
    _raw_deflate,
    compress,
    inflate,
)
from shixian.converter import DATA_CONVERTER
from tests.jiujiang_cases import project


def _json(size: int) -> Payload:
    text = json.dumps({"note": "逾期通报 " * (size // 13)})
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def test_a_large_payload_is_deflated_and_inflates_to_the_same_payload() -> None:
    original = _json(20_000)
    packed = compress(original)
    assert packed.metadata["encoding"] == ENCODING
    assert len(packed.data) < len(original.data) / 10
    assert inflate(packed) == original
    assert compress(packed) is packed  # never twice


def test_small_or_incompressible_payloads_stay_as_they_are() -> None:
    small = _json(MIN_BYTES // 2)
    assert compress(small) is small
    noise = Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(8192))
    assert compress(noise) is noise
    assert inflate(small) is small  # a payload written before compression


def test_a_damaged_or_oversized_payload_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="compressed payload is damaged"):
        inflate(Payload(metadata={"encoding": ENCODING}, data=b"not zlib at all"))
    bomb = zlib.compress(b"\0" * (MAX_INFLATED + 1), 9)
    with pytest.raises(ValueError, match=f"inflates past {MAX_INFLATED} bytes"):
        inflate(Payload(metadata={"encoding": ENCODING}, data=bomb))


async def test_compression_comes_before_encryption_and_decoding_reverses_both() -> None:
    chain = CodecChain(CompressionCodec(), EncryptionCodec(os.urandom(32)))
    original = _json(20_000)
    [stored] = await chain.encode([original])
    assert stored.metadata["encoding"] == ENCRYPTED
    assert len(stored.data) < len(original.data) / 5  # compressed before it was sealed
    assert await chain.decode([stored]) == [original]


async def test_a_project_start_input_is_stored_compressed() -> None:
    inp = operations.prepare(project("JJT-ZIP", investment_wan=800,
                                     started_on=date(2026, 3, 2)),
                             WorkCalendar.default(use_env=False))
    [plain] = DATA_CONVERTER.payload_converter.to_payloads([inp])
    [stored] = await DATA_CONVERTER.encode([inp])
    assert stored.metadata["encoding"] == ENCODING
    assert len(stored.data) * 4 < len(plain.data)  # measured: 39 KB -> 7 KB
    [back] = await DATA_CONVERTER.decode([stored], [type(inp)])
    assert back == inp


def test_start_inputs_under_one_pack_share_its_deflated_bytes_and_stay_ordinary_zlib() -> None:
    """The pack is deflated once and spliced into each start input's stream; any inflater
    (plain zlib here, as a codec server or `temporal workflow show` would) reads the whole."""
    calendar = WorkCalendar.default(use_env=False)
    inputs = [operations.prepare(project(f"JJT-ZIP-{i}", investment_wan=800 + i * 5000,
                                         started_on=date(2026, 3, 2 + i)), calendar)
              for i in range(3)]
    plain = [DATA_CONVERTER.payload_converter.to_payloads([i])[0] for i in inputs]
    stored = [compress(p) for p in plain]
    for p, s in zip(plain, stored, strict=True):
        assert s.metadata["encoding"] == ENCODING
        assert zlib.decompress(s.data) == p.SerializeToString()  # checksum and all
        assert inflate(s) == p
        assert len(s.data) * 4 < len(p.data)
    # the pack's deflated piece is byte for byte in each stream
    pack = plain[0].data[len(PACK_HEAD):len(PACK_HEAD) + int(plain[0].metadata[PACK_BYTES])]
    piece = _raw_deflate(pack, zlib.Z_FULL_FLUSH)
    assert all(piece in s.data for s in stored)
    # and the splice costs next to nothing in size against deflating the whole
    whole = len(zlib.compress(plain[0].SerializeToString(), 6))
    assert len(stored[0].data) < whole * 1.05


@pytest.mark.parametrize("size", [b"", b"x", b"-5", b"999999999"])
def test_a_payload_that_only_claims_a_pack_is_deflated_whole(size: bytes) -> None:
    original = _json(20_000)
    original.data = PACK_HEAD + original.data[1:]  # pack-first in look, not in length
    original.metadata[PACK_BYTES] = size
    packed = compress(original)
    assert inflate(packed) == original
    assert packed.data == zlib.compress(original.SerializeToString(), 6)
