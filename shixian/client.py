"""Connecting to Temporal the way every Temporal tool does (temporalio.envconfig)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter, PayloadConverter
from temporalio.envconfig import ClientConfigProfile
from temporalio.service import RPCError, RPCStatusCode

from shixian.config import DEFAULT_ADDRESS
from shixian.errors import UserError

CONNECT_TIMEOUT = 20.0  # seconds; a server that accepts TCP but never answers


def connect_config() -> dict[str, Any]:
    """TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS / API key / profile, default localhost:7233."""
    try:
        config = dict(ClientConfigProfile.load().to_client_connect_config())
    except Exception as exc:  # a malformed config file or env value
        raise UserError(f"Temporal client configuration is not usable: {exc}") from None
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return config


class ConverterOnFirstUse(PayloadConverter):
    """shixian's payload converter (`shixian.converter`: pydantic, the models), imported
    when the first value is converted rather than at connect: a command that stops at
    "unknown project" never pays the ~50 ms (issue #12). For client processes only: a
    worker instantiates its payload converter inside the workflow sandbox, where this
    import would run again for every workflow."""

    def __init__(self) -> None:
        self._converter: PayloadConverter | None = None

    def _real(self) -> PayloadConverter:
        if self._converter is None:
            from shixian.converter import ReadingPayloadConverter

            self._converter = ReadingPayloadConverter()
        return self._converter

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        return self._real().to_payloads(values)

    def from_payloads(self, payloads: Sequence[Payload],
                      type_hints: list[type] | None = None) -> list[Any]:
        return self._real().from_payloads(payloads, type_hints)


async def connect(*, converter_on_first_use: bool = False) -> Client:
    """The client for this process's Temporal (`connect_config`), with shixian's data
    converter; `converter_on_first_use` for commands that may end before they convert a
    value (`ConverterOnFirstUse`)."""
    from shixian.codec import payload_codec

    config = connect_config()
    if converter_on_first_use:
        converter = DataConverter(payload_converter_class=ConverterOnFirstUse,
                                  payload_codec=payload_codec())
    else:
        from shixian.converter import data_converter

        converter = data_converter()
    try:
        return await asyncio.wait_for(Client.connect(**config, data_converter=converter),
                                      CONNECT_TIMEOUT)
    except TimeoutError:
        raise UserError(
            f"no answer from Temporal at {config['target_host']} within {CONNECT_TIMEOUT:g}s; "
            "is the address right (TEMPORAL_ADDRESS) and the server up?"
        ) from None
    except RuntimeError as exc:
        text = " ".join(str(exc).split())
        if any(w in text.lower() for w in ("unauthenticated", "permissiondenied",
                                            "permission denied")):
            raise UserError(
                f"Temporal at {config['target_host']} refused the credentials ({text}); check "
                "TEMPORAL_API_KEY or the TLS client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, "
                "TEMPORAL_TLS_CLIENT_KEY_PATH) and the namespace permissions"
            ) from None
        if any(w in text.lower() for w in ("tls", "certificate", "handshake", "invalidcontent",
                                            "invalid content", "ssl")):
            raise UserError(
                f"cannot connect to Temporal at {config['target_host']} over TLS ({text}); "
                "check TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME "
                "and the client certificate settings"
            ) from None
        raise UserError(
            f"cannot reach Temporal at {config['target_host']} ({exc}); start the embedded "
            "server with `shixian server` (or `./dev up`), or set TEMPORAL_ADDRESS"
        ) from None


def workflow_id(project_id: str) -> str:
    return f"project-{project_id}"


async def project_handle(client: Client, project_id: str) -> WorkflowHandle[Any, Any]:
    """The project's workflow, or a UserError that says how to start it."""
    handle = client.get_workflow_handle(workflow_id(project_id))
    try:
        await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UserError(
                f"unknown project {project_id!r}: no workflow {workflow_id(project_id)} in "
                f"namespace {client.namespace}; start it with `shixian start FILE`"
            ) from None
        raise
    return handle
