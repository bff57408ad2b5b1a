"""`shixian codec-server`: read compressed or encrypted histories in the Web UI and the
`temporal` CLI."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from types import FrameType

from shixian.codec import KEY_ENV, codec_from_env, new_key
from shixian.errors import UserError

DESCRIPTION = """\
shixian stores large workflow payloads (a project's start input, with its policy pack)
zlib-compressed on the Temporal server, and with SHIXIAN_PAYLOAD_KEY set every payload
encrypted (AES-256-GCM). This serves Temporal's remote codec protocol (POST /decode,
/encode) with the same codecs and key, so an operator can still read histories. (The
Web UI of `shixian up` / `shixian server` already has one, in-process.)

  Web UI:        shixian server --codec-endpoint http://127.0.0.1:8234
                 (a cluster's UI: TEMPORAL_CODEC_ENDPOINT, or the UI's codec settings)
  temporal CLI:  temporal workflow show -w project-JJ-2026-001 \\
                     --codec-endpoint http://127.0.0.1:8234

Anyone who can reach this server can read every payload: it binds to 127.0.0.1, lets
browsers in only from --allow-origin, and with SHIXIAN_CODEC_TOKEN set requires
`Authorization: Bearer <token>` (temporal CLI: --codec-auth "Bearer <token>").
Search attributes, workflow ids and failure messages are never encrypted.
"""
EPILOG = """\
examples:
  shixian codec-server --new-key                print a fresh key for SHIXIAN_PAYLOAD_KEY
  shixian codec-server                          serve on 127.0.0.1:8234: inflate only
  SHIXIAN_PAYLOAD_KEY=… shixian codec-server    inflate and decrypt with the workers' key
  shixian codec-server --port 9000 --allow-origin https://temporal-ui.example.gov.cn
"""
DEFAULT_ORIGINS = ["http://127.0.0.1:8233", "http://localhost:8233"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "codec-server", help="decode encrypted payloads for the Web UI and temporal CLI",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                        "127.0.0.1)")
    parser.add_argument("--port", type=int, default=8234, help="port (default 8234)")
    parser.add_argument("--allow-origin", action="append", default=None, metavar="URL",
                        help="a Web UI origin browsers may call from (repeatable; default "
                             + ", ".join(DEFAULT_ORIGINS) + ")")
    parser.add_argument("--new-key", action="store_true",
                        help="print a new random key for SHIXIAN_PAYLOAD_KEY and exit")
    parser.add_argument("--json", action="store_true", help="print the address as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.new_key:
        print(new_key())
        return 0
    key = codec_from_env()  # a bad key is refused here, before listening
    from shixian.codec import payload_codec
    from shixian.codec_server import CodecServer

    try:
        server = CodecServer(payload_codec(), args.host, args.port,
                             args.allow_origin or DEFAULT_ORIGINS,
                             os.environ.get("SHIXIAN_CODEC_TOKEN") or None)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}; pick "
                        "another with --port") from None
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, on_signal)
    server.start()
    if args.json:
        print(json.dumps({"url": server.url, "key_id": key and key.key_id}), flush=True)
    else:
        what = (f"inflates and decrypts (key id {key.key_id})" if key else
                f"inflates; {KEY_ENV} is not set, so encrypted payloads are refused")
        print(f"codec server on {server.url}: {what}; Ctrl-C to stop", flush=True)
    stopping.wait()
    server.stop()
    return 0
