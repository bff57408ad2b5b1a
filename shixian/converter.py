"""The one data converter: client, worker, replayer and test environments all use it.

The default JSON converter does not round-trip `datetime.date`; pydantic's does (DESIGN §7).
`data_converter()` adds the AES-GCM payload codec when SHIXIAN_PAYLOAD_KEY is set
(`shixian.codec`); `DATA_CONVERTER` is the plain converter (replay of stored histories,
tests).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import (
    PydanticJSONPlainPayloadConverter,
    PydanticPayloadConverter,
)
from temporalio.converter import DataConverter

# One cache of pydantic type adapters for the whole process. The worker makes a payload
# converter per workflow instance, and temporalio's pydantic converter keeps its adapters
# per converter: ~130 KB of adapters per cached workflow, rebuilt for each (issue #12).
_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=1024)(TypeAdapter)


class SharedAdapterPayloadConverter(PydanticPayloadConverter):
    """temporalio's pydantic payload converter, with the process-wide adapter cache."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _ADAPTERS


DATA_CONVERTER = DataConverter(payload_converter_class=SharedAdapterPayloadConverter)


def data_converter() -> DataConverter:
    """The converter for this process: encrypted payloads when SHIXIAN_PAYLOAD_KEY is set."""
    from shixian.codec import RefuseEncrypted, codec_from_env

    codec = codec_from_env()
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec or RefuseEncrypted())
