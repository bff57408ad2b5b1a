"""The one data converter: client, worker, replayer and test environments all use it.

The default JSON converter does not round-trip `datetime.date`; pydantic's does (DESIGN §7).
`data_converter()` adds the AES-GCM payload codec when SHIXIAN_PAYLOAD_KEY is set
(`shixian.codec`); `DATA_CONVERTER` is the plain converter (replay of stored histories,
tests).
"""

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

DATA_CONVERTER = pydantic_data_converter


def data_converter() -> DataConverter:
    """The converter for this process: encrypted payloads when SHIXIAN_PAYLOAD_KEY is set."""
    from shixian.codec import RefuseEncrypted, codec_from_env

    codec = codec_from_env()
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec or RefuseEncrypted())
