"""The one data converter: client, worker, replayer and test environments all use it.

The default JSON converter does not round-trip `datetime.date`; pydantic's does (DESIGN §7).
`data_converter()` adds the AES-GCM payload codec when SHIXIAN_PAYLOAD_KEY is set
(`shixian.codec`); `DATA_CONVERTER` is the plain converter (replay of stored histories,
tests).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import (
    PydanticJSONPlainPayloadConverter,
    PydanticPayloadConverter,
    pydantic_data_converter,
)
from temporalio.converter import DataConverter

from workflows.models import UnreadablePayload

# One cache of pydantic type adapters for the whole process. The worker makes a payload
# converter per workflow instance, and temporalio's pydantic converter keeps its adapters
# per converter: ~130 KB of adapters per cached workflow, rebuilt for each (issue #12).
_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=1024)(TypeAdapter)


class ReadingPayloadConverter(PydanticPayloadConverter):
    """pydantic's converter, but a payload that does not decode raises `UnreadablePayload`
    with a short reason naming the fields (the lifecycle workflow fails on it rather than
    retrying a task that can never succeed; an update is rejected with it). Its type
    adapters are the process-wide cache, not one set per workflow instance."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _ADAPTERS

    def from_payloads(self, payloads: Sequence[Payload],
                      type_hints: list[type] | None = None) -> list[Any]:
        try:
            return super().from_payloads(payloads, type_hints)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                                 for e in exc.errors()[:5])
            raise UnreadablePayload(f"unreadable {exc.title}: {problems}") from None


DATA_CONVERTER = dataclasses.replace(pydantic_data_converter,
                                     payload_converter_class=ReadingPayloadConverter)


def data_converter() -> DataConverter:
    """The converter for this process: encrypted payloads when SHIXIAN_PAYLOAD_KEY is set."""
    from shixian.codec import RefuseEncrypted, codec_from_env

    codec = codec_from_env()
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec or RefuseEncrypted())
