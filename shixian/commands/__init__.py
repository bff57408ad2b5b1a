"""One module per `shixian` subcommand group; each exposes `register(subparsers)`."""
