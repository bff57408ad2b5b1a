"""Signed calendar data (Ed25519): who published a year is checked, not assumed.

`shixian calendar publish` signs the day data it sends to running projects; each project
carries the public keys it trusts (in its workflow input), and its `apply_calendar`
validator refuses data whose signature does not verify with one of them. A forged year that
would make an overdue project "not overdue" is refused before it enters history.

Pure given bytes (no files, clock or environment): the workflow's validator calls `problem`.
Public keys are written `ed25519:<base64 of the 32 raw bytes>`; a key id is the first 16 hex
digits of the SHA-256 of those bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from calendars.model import CalendarError

PREFIX = "ed25519:"
CONTEXT = b"shixian-calendar-v1\n"


def signed_bytes(snapshot: Mapping[str, Any], note: str) -> bytes:
    """What is signed: a context string and the canonical JSON of the snapshot and note."""
    body = json.dumps({"note": note, "snapshot": snapshot}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return CONTEXT + body.encode("utf-8")


def parse_public_key(text: str) -> bytes:
    """The 32 raw bytes of `ed25519:<base64>`, or a CalendarError naming the fix."""
    value = text.strip()
    if not value.startswith(PREFIX):
        raise CalendarError(f"public key {value[:40]!r} is not of the form ed25519:<base64> "
                            "(the .pub file `shixian calendar keygen` writes)")
    try:
        raw = base64.b64decode(value[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise CalendarError(f"public key {value[:40]!r}: not valid base64") from None
    if len(raw) != 32:
        raise CalendarError(f"public key {value[:40]!r}: {len(raw)} bytes, an Ed25519 public "
                            "key has 32")
    return raw


def key_id(public_key: str | bytes) -> str:
    raw = parse_public_key(public_key) if isinstance(public_key, str) else public_key
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode("ascii")


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CalendarError(f"not a PEM private key without a passphrase: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CalendarError("the signing key is not an Ed25519 key "
                            "(create one with `shixian calendar keygen`)")
    return key


def sign(snapshot: Mapping[str, Any], note: str, private_key: Ed25519PrivateKey) -> tuple[str,
                                                                                          str]:
    """(signature as base64, key id of the signer)."""
    signature = private_key.sign(signed_bytes(snapshot, note))
    return base64.b64encode(signature).decode("ascii"), key_id(public_key_text(private_key))


def problem(snapshot: Mapping[str, Any], note: str, signature: str | None,
            trusted: Iterable[str]) -> str | None:
    """None when `signature` verifies with one of the `trusted` keys, else why not.

    With no trusted key at all there is nothing to check against: the caller decides
    (shixian accepts unsigned data only for projects started without trusted keys).
    """
    keys = list(trusted)
    ids = ", ".join(key_id(k) for k in keys)
    if not signature:
        return (f"it is not signed, and this project trusts only signed data (key id(s) {ids});"
                " publish with `shixian calendar publish FILE --signing-key KEY`")
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return "its signature is not valid base64"
    message = signed_bytes(snapshot, note)
    for key in keys:
        try:
            Ed25519PublicKey.from_public_bytes(parse_public_key(key)).verify(raw_signature,
                                                                             message)
        except InvalidSignature:
            continue
        return None
    return (f"signature does not verify with any trusted key (trusted key id(s) {ids}); "
            "the data was altered or signed by a key this project does not trust")
