"""The one data converter: client, worker, replayer and test environments all use it.

The default JSON converter does not round-trip `datetime.date`; pydantic's does (DESIGN §7).
`data_converter()` adds the AES-GCM payload codec when SHIXIAN_PAYLOAD_KEY is set
(`shixian.codec`); `DATA_CONVERTER` is the plain converter (replay of stored histories,
tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import (
    PydanticJSONPlainPayloadConverter,
    PydanticPayloadConverter,
    pydantic_data_converter,
)
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
)

from shixian.compression import PACK_BYTES, PACK_HEAD, CompressionCodec

if TYPE_CHECKING:
    from workflows.models import LifecycleInput

# The policy and workflow models are imported when a lifecycle input or an unreadable
# payload is first met, not with the client: a command that never decodes one (`shixian
# list` asking Temporal about an empty read model) skips ~50 ms of model classes (issue #12).

# One cache of pydantic type adapters for the whole process. The worker makes a payload
# converter per workflow instance, and temporalio's pydantic converter keeps its adapters
# per converter: ~130 KB of adapters per cached workflow, rebuilt for each (issue #12).
_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=1024)(TypeAdapter)


class LifecycleJSONConverter(PydanticJSONPlainPayloadConverter):
    """pydantic's JSON converter; a `LifecycleInput` is written with its policy pack first
    and the pack's length in the metadata, so a worker decodes each distinct pack once
    (`workflows.shared.shared_pack_json`: keyed by the pack's exact bytes) and only the
    project, calendar and carried state per start (issue #12: the pack is 34 KB of a
    39 KB input, 1.2 of its 1.8 ms to decode).

    The data stays plain JSON with the same content (only the key order differs), so any
    reader decodes it; payloads without the metadata (histories recorded before) take the
    ordinary path. Equal bytes decode to equal values, so a cached pack decides exactly
    as a freshly decoded one."""

    def to_payload(self, value: Any) -> Payload | None:
        if type(value).__name__ != "LifecycleInput" or type(value) is not _lifecycle_type():
            return super().to_payload(value)
        from workflows import shared

        pack = shared.pack_json(value.pack)
        rest = value.model_dump_json(exclude={"pack"}).encode()
        return Payload(metadata={"encoding": self.encoding.encode(),
                                 PACK_BYTES: str(len(pack)).encode()},
                       data=PACK_HEAD + pack + (b"," + rest[1:] if rest != b"{}" else b"}"))

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        size = payload.metadata.get(PACK_BYTES)
        if size is not None and getattr(type_hint, "__name__", None) == "LifecycleInput" \
                and type_hint is _lifecycle_type():
            with contextlib.suppress(ValueError):  # anything odd: the ordinary path says what
                return _lifecycle_input(payload.data, int(size))
        return super().from_payload(payload, type_hint)


@functools.cache
def _lifecycle_type() -> type[LifecycleInput]:
    from workflows.models import LifecycleInput

    return LifecycleInput


@functools.cache
def _lifecycle_rest() -> type[LifecycleInput]:
    """`LifecycleInput` without its pack: the rest of a pack-first payload."""
    from policies.model import PolicyPack
    from workflows.models import LifecycleInput

    class _LifecycleRest(LifecycleInput):
        pack: PolicyPack | None = None  # type: ignore[assignment]

    return _LifecycleRest


def _lifecycle_input(data: bytes, size: int) -> LifecycleInput:
    from workflows import shared
    from workflows.models import LifecycleInput

    end = len(PACK_HEAD) + size
    if not data.startswith(PACK_HEAD) or data[end:end + 1] not in (b",", b"}"):
        raise ValueError("not a pack-first payload")
    pack = shared.shared_pack_json(data[len(PACK_HEAD):end])
    rest = _lifecycle_rest().model_validate_json(b"{" + data[end + 1:])
    if rest.pack is not None:
        raise ValueError("a second pack")
    fields = {k: getattr(rest, k) for k in LifecycleInput.model_fields if k != "pack"}
    return LifecycleInput.model_construct(
        _fields_set=rest.model_fields_set | {"pack"}, pack=pack, **fields)


@functools.cache
def _encoding_converters() -> tuple[EncodingPayloadConverter, ...]:
    """The SDK's default encodings (its instances, shared as it shares them), with JSON
    decoded by one `LifecycleJSONConverter` on the process-wide adapters."""
    json = LifecycleJSONConverter()
    json._type_adapter = _ADAPTERS
    return tuple(json if isinstance(c, JSONPlainPayloadConverter) else c
                 for c in DefaultPayloadConverter.default_encoding_payload_converters)


class ReadingPayloadConverter(PydanticPayloadConverter):
    """pydantic's converter, but a payload that does not decode raises `UnreadablePayload`
    with a short reason naming the fields (the lifecycle workflow fails on it rather than
    retrying a task that can never succeed; an update is rejected with it). Its type
    adapters are the process-wide cache, not one set per workflow instance."""

    def __init__(self) -> None:
        # Not PydanticPayloadConverter's __init__: the SDK builds a payload converter per
        # data converter it derives (two per workflow activation), and that one made two
        # JSON converters to keep one. These are stateless but for the shared adapters.
        CompositePayloadConverter.__init__(self, *_encoding_converters())

    def from_payloads(self, payloads: Sequence[Payload],
                      type_hints: list[type] | None = None) -> list[Any]:
        try:
            return super().from_payloads(payloads, type_hints)
        except ValidationError as exc:
            from workflows.models import UnreadablePayload

            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                                 for e in exc.errors()[:5])
            raise UnreadablePayload(f"unreadable {exc.title}: {problems}") from None


DATA_CONVERTER = dataclasses.replace(pydantic_data_converter,
                                     payload_converter_class=ReadingPayloadConverter,
                                     payload_codec=CompressionCodec())


def data_converter() -> DataConverter:
    """The converter for this process: encrypted payloads when SHIXIAN_PAYLOAD_KEY is set."""
    from shixian.codec import payload_codec

    return dataclasses.replace(DATA_CONVERTER, payload_codec=payload_codec())
