"""tap-asana: the Singer command line. Parses arguments, then discovers or syncs."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any, List, Optional

__version__ = "0.1.0"
LOGGER = logging.getLogger("tap_asana")


def main(argv: Optional[List[str]] = None) -> None:
    sys.exit(run(argv))


def run(argv: Optional[List[str]] = None) -> int:
    from tap_asana import config as cfg, discover, selection, state as st, sync
    from tap_asana.client import AsanaClient, AsanaError, AuthRejected
    from tap_asana.scheduler import StopFlag, Stopped

    args = _parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # Singer messages are UTF-8 whatever the locale
    secrets: List[str] = []
    _setup_logging(args.log_level, secrets)
    if args.about:
        print(json.dumps(cfg.about(), indent=2))
        return 0
    stop = StopFlag()
    try:
        if not args.config:
            raise cfg.ConfigError("no config given. Pass --config config.json (see sample_config.json).")
        config = cfg.load_config(args.config)
        secrets.extend(cfg.secrets_of(config))
        if args.discover:
            json.dump(discover.discover(), sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        catalog_path = args.catalog or args.properties
        if not catalog_path:
            raise selection.CatalogError("no catalog given. Make one with --discover, select streams, pass it with --catalog.")
        catalog = _read_json(catalog_path, "catalog", "Make one with --discover.", selection.CatalogError)
        selected = selection.select(catalog)
        state = st.validate(_read_json(args.state, "state", "Fix or remove it.", st.StateError)) if args.state else {}
        signals = {signal.SIGTERM: 143, signal.SIGINT: 130}
        received: List[int] = []

        def on_signal(signum: int, _frame: Any) -> None:
            received.append(signals[signum])
            stop.set()
            if not stop.armed:  # nothing written yet: stop now, even inside a request
                raise Stopped()

        for signum in signals:
            signal.signal(signum, on_signal)
        try:
            client = AsanaClient(config, on_secret=secrets.append)
            sync.sync(client, config, selected, state, stop=stop)
        except Stopped:
            LOGGER.warning("Stopped by a signal; the last STATE written is safe to resume from")
            return received[0] if received else 143
        return 0
    except (cfg.ConfigError, selection.CatalogError, st.StateError) as exc:
        LOGGER.critical("%s", exc)
    except AuthRejected as exc:
        LOGGER.critical("Asana rejected the credentials (%s). Check access_token, or the OAuth client_id, "
                         "client_secret and refresh_token.", exc)
    except AsanaError as exc:
        LOGGER.critical("%s. The last STATE written is safe to resume from.", exc)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tap-asana", description="Singer tap for Asana")
    parser.add_argument("-c", "--config", help="config file (JSON)")
    parser.add_argument("-d", "--discover", action="store_true", help="print the catalog and exit")
    parser.add_argument("--catalog", help="catalog file with the selected streams")
    parser.add_argument("-p", "--properties", help="legacy name of --catalog")
    parser.add_argument("-s", "--state", help="state file from an earlier run")
    parser.add_argument("--about", action="store_true", help="print name, version, capabilities and settings")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    return parser


def _read_json(path: str, what: str, fix: str, error: type) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise error(f"cannot read {what} file {path}: {exc.strerror}.") from None
    if what == "state" and not text.strip():
        return {}  # orchestrators often hand over an empty file on the first run
    try:
        return json.loads(text)
    except ValueError as exc:
        raise error(f"{what} file {path} is not valid JSON ({exc.msg} at line {exc.lineno}). {fix}") from None


class _Redact(logging.Filter):
    """Last line of defence: no secret reaches a log line, whoever logs it."""

    def __init__(self, secrets: List[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def _setup_logging(level: str, secrets: List[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(_Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
