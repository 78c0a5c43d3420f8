"""The Singer command line: parses arguments, sets up logging, then discovers, tests or syncs."""
from __future__ import annotations

import argparse
import json
import logging
import logging.config
import os
import signal
import sys
from typing import Any, List, Optional

from tap_asana.version import __version__

LOGGER = logging.getLogger("tap_asana")


def main(argv: Optional[List[str]] = None) -> None:
    sys.exit(run(argv))


def run(argv: Optional[List[str]] = None) -> int:
    from tap_asana import config as cfg, discover, selection
    from tap_asana.client import AsanaClient
    from tap_asana.writer import Output

    args = _parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # Singer messages are UTF-8 whatever the locale
    secrets: List[str] = []
    problem = _setup_logging(args.log_level, secrets)
    if problem:
        LOGGER.critical("%s. %s", problem.rstrip("."), NO_STATE)
        return 1
    if args.format and not args.about:
        LOGGER.critical("--format %s chooses how --about prints the settings; it does nothing without --about "
                        "(tap-asana --about --format %s). %s", args.format, args.format, NO_STATE)
        return 1
    if args.version:
        print(f"tap-asana {__version__}")
        return 0
    if args.about:
        print(cfg.about_markdown() if args.format == "markdown" else json.dumps(cfg.about(), indent=2))
        return 0
    patterns = (["*"] if args.select_all else []) + (args.select or [])
    config = None
    output = Output(sys.stdout)
    try:
        if not args.config:
            raise cfg.ConfigError("no config given. Pass --config config.json (see sample_config.json), or --config "
                                  "ENV to read TAP_ASANA_<SETTING> environment variables.")
        config = cfg.load_config(args.config)
        secrets.extend(cfg.secrets_of(config))
        if config.log_level and not args.log_level:
            logging.getLogger().setLevel(config.log_level)
        if config.metrics_log_level:
            from tap_asana.progress import set_metrics_level

            set_metrics_level(config.metrics_log_level)
        if args.test:
            from tap_asana import access

            client = AsanaClient(config, on_secret=secrets.append)
            print("\n".join(access.report(client, config) + ["OK: a sync with this config can start."]))
            return 0
        if args.discover:
            catalog = discover.discover()
            if patterns or args.deselect:
                catalog = selection.apply_patterns(catalog, patterns, args.deselect or [])
            _print_catalog(catalog)
            return 0
        selected = _selected(args, patterns)
        state = _read_state(args.state) if args.state else {}
        return _sync(config, selected, state, output, secrets)
    except Exception as exc:  # noqa: BLE001: every ending is one CRITICAL line, a bug's too
        _critical(_explain(exc, config), output)
    return 1


def _explain(exc: Exception, config: Any) -> str:
    """The CRITICAL line for what ended the run, in the user's terms."""
    from tap_asana import config as cfg, selection, state as st
    from tap_asana.client import AsanaError, AuthRejected
    from tap_asana.conform import BadRecord
    from tap_asana.writer import TargetClosed

    if isinstance(exc, (cfg.ConfigError, selection.CatalogError, st.StateError, BadRecord)):
        return str(exc)
    if isinstance(exc, AuthRejected):
        return _rejected(exc, config)
    if isinstance(exc, AsanaError):
        if exc.status == 404 and exc.path == "/users/me":
            return (f"{config.api_url}/users/me answered 404 ({exc}): api_url does not lead to Asana's API. Check "
                    "api_url (Asana's is https://app.asana.com/api/1.0)")
        return str(exc)
    if isinstance(exc, TargetClosed):
        # Whatever is still buffered for stdout can go nowhere; drop it, so the interpreter's
        # last flush does not print "Exception ignored ... BrokenPipeError" at exit.
        _silence_stdout()
        return ("The target closed the tap's output (stdout) before the run ended: the records since the last STATE "
                "it received were not delivered. Look at the target's log for why it stopped")
    # a bug: still one line (the traceback at DEBUG), never a bare stack trace
    LOGGER.debug("Traceback of the unexpected error", exc_info=exc)
    where = exc.__traceback__
    while where is not None and where.tb_next is not None:
        where = where.tb_next
    place = f" at {os.path.basename(where.tb_frame.f_code.co_filename)}:{where.tb_lineno}" if where else ""
    return (f"Unexpected error {type(exc).__name__}{place}: {exc}. This is a bug in tap-asana: please report "
            "it with the log of a run with --log-level DEBUG")


def _print_catalog(catalog: Any) -> None:
    from tap_asana.writer import TargetClosed

    try:
        json.dump(catalog, sys.stdout, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError) as exc:
        raise TargetClosed(str(exc)) from None


def _selected(args: argparse.Namespace, patterns: List[str]) -> Any:
    """The streams to sync: the catalog file's, or the bundled one's, as the patterns change them."""
    from tap_asana import discover, selection

    catalog_path = args.catalog or args.properties
    if catalog_path:
        catalog = _read_json(catalog_path, "catalog", "Make one with --discover.", selection.CatalogError)
    elif patterns:
        catalog = discover.discover()
    else:
        raise selection.CatalogError("no catalog given. Make one with --discover, select streams, pass it with "
                                     "--catalog; or name streams with --select (or --select-all).")
    if patterns or args.deselect:
        catalog = selection.apply_patterns(catalog, patterns, args.deselect or [])
    try:
        return selection.select(catalog)
    except selection.CatalogError:
        if catalog_path:
            raise
        # No catalog file: the patterns alone chose nothing (a --deselect wins over every --select).
        raise selection.CatalogError(
            f"the patterns leave no stream selected: {_patterns_text(args)}. --deselect wins over --select "
            "(and --select-all); select at least one stream that no --deselect names.") from None


def _sync(config: Any, selected: Any, state: Any, output: Any, secrets: List[str]) -> int:
    """Syncs until done or a signal stops it: the exit code."""
    from tap_asana import sync
    from tap_asana.client import AsanaClient
    from tap_asana.progress import Reporter
    from tap_asana.scheduler import StopFlag, Stopped

    stop = StopFlag()
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
        reporter = Reporter(streams=list(selected))
        client = AsanaClient(config, on_secret=secrets.append, on_request=reporter.request)
        sync.sync(client, config, selected, state, out=output, stop=stop, reporter=reporter)
    except Stopped:
        LOGGER.warning("Stopped by a signal; the last STATE written is safe to resume from")
        return received[0] if received else 143
    return 0


#: How every CRITICAL line ends (README, "Errors, retries and stopping"): whether a STATE went out.
RESUMABLE = "The last STATE written is safe to resume from."
NO_STATE = "No STATE was written: the next run starts where this one did."


def _resume_note(output: Any) -> str:
    return RESUMABLE if output.states else NO_STATE


def _critical(message: str, output: Any) -> None:
    """The one CRITICAL line of a failed run: what happened, what to do, and what the state says."""
    LOGGER.critical("%s. %s", message.rstrip().rstrip("."), _resume_note(output))


def _rejected(exc: Exception, config: Any) -> str:
    """What a 401 (or a refused OAuth refresh) means for the credentials the config gave."""
    if getattr(exc, "path", "") == "/-/oauth_token":
        if getattr(exc, "status", None) == 401 or "invalid_client" in str(exc):
            return (f"{exc} Asana does not know this OAuth app: check client_id and client_secret (the app's "
                    "credentials in Asana's developer console)")
        return (f"{exc} The refresh_token is not accepted: it is wrong, was revoked (the user removed the app's "
                "access) or belongs to another OAuth app. Get a new refresh token through the app's authorization "
                "flow and put it in refresh_token")
    if config is not None and config.oauth:
        return (f"Asana rejected the access tokens fetched with the OAuth refresh_token ({exc}): the refresh "
                "worked but Asana refuses what it hands out. Check that the OAuth app and its user still have "
                "access to the workspace, or authorize the app again")
    return (f"Asana rejected the credentials ({exc}): access_token is wrong, revoked or expired. Put a current "
            "personal access token (or service-account token) in access_token")


def _patterns_text(args: argparse.Namespace) -> str:
    parts = (["--select-all"] if args.select_all else []) + [f"--select {p!r}" for p in args.select or []]
    return " ".join(parts + [f"--deselect {p!r}" for p in args.deselect or []])


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _read_state(path: str) -> Any:
    """The state file as the tap's own state: a missing file is a first run (orchestrators and
    the README's first sync pass a path that does not exist yet); the shapes other tools write
    are adopted (see state.adopt); anything else unusable is a StateError."""
    from tap_asana import state as st
    from tap_asana.streams import INCREMENTAL, STREAMS

    if not os.path.exists(path):
        LOGGER.warning("State file %s does not exist: taking this for a first run, which reads from start_date. "
                       "If an earlier run's state should be there, stop this run and check the path.", path)
        return {}
    raw = _state_json(path)
    keys = {name: s.replication_key if s.replication_method == INCREMENTAL else None for name, s in STREAMS.items()}
    state, notes = st.adopt(raw, keys)
    for level, note in notes:
        LOGGER.log(logging.getLevelName(level), "State file %s: %s", path, note)
    try:
        return st.validate(state)
    except st.StateError as exc:
        message = str(exc).rstrip(".")
        raise st.StateError(f"state file {path}: {message}. Fix it, or pass the last STATE a target wrote, or "
                            "remove --state to read everything again from start_date.") from None


def _state_json(path: str) -> Any:
    """The JSON a state file holds: one document, or (a target's whole output, one STATE value
    a line) the last of several JSON lines."""
    from tap_asana import state as st

    try:
        return _read_json(path, "state", "Fix or remove it.", st.StateError)
    except st.StateError:
        from tap_asana.config import read_text

        lines = [(number, line) for number, line in enumerate(read_text(path, "state", st.StateError).split("\n"), 1)
                 if line.strip()]
        if len(lines) < 2:
            raise
        for number, line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                raise st.StateError(f"state file {path} is neither one JSON document nor JSON lines (line {number} "
                                    "is not JSON). Keep only the last line a target printed, or remove --state.") from None
        LOGGER.info("State file %s holds %d JSON lines (a target's output): using the last one", path, len(lines))
        return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tap-asana", description="Singer tap for Asana")
    parser.add_argument("-c", "--config", action="append", metavar="FILE|ENV",
                        help="config file (JSON), or ENV for TAP_ASANA_<SETTING> environment variables; repeatable: "
                             "merged in order, later keys win")
    parser.add_argument("-d", "--discover", action="store_true", help="print the catalog and exit")
    parser.add_argument("--catalog", help="catalog file with the selected streams")
    parser.add_argument("-p", "--properties", help="legacy name of --catalog")
    parser.add_argument("-s", "--state", help="state file from an earlier run")
    parser.add_argument("--about", action="store_true", help="print name, version, capabilities and settings")
    parser.add_argument("--test", action="store_true",
                        help="check the credentials and what they reach (workspaces, plans, the gids a shard names), "
                             "print a short report and exit")
    parser.add_argument("--format", choices=["json", "markdown"], help="--about's format (default json)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        help="overrides the config's log_level (default INFO)")
    parser.add_argument("--select", action="append", metavar="PATTERN",
                        help="select streams (tasks, 'task*') or columns ('stories.*', tasks.name); repeatable")
    parser.add_argument("--deselect", action="append", metavar="PATTERN",
                        help="deselect streams or columns (tasks.notes); wins over --select; repeatable")
    parser.add_argument("--select-all", action="store_true", help="select every stream and column")
    return parser


def _read_json(path: str, what: str, fix: str, error: type) -> Any:
    from tap_asana.config import read_text

    text = read_text(path, what, error)
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


def _setup_logging(level: Optional[str], secrets: List[str]) -> Optional[str]:
    """Our handler on stderr, or the file LOGGING_CONF_FILE names (as pipelinewise-singer-python
    reads it); either way secrets are redacted. Returns a problem to report, if any."""
    root = logging.getLogger()
    path = os.environ.get("LOGGING_CONF_FILE")
    problem = None
    fix = "Point it at a logging.config.fileConfig file, or unset it."
    if path and not os.path.isfile(path):
        problem = f"LOGGING_CONF_FILE names {path}, which is not a file. {fix}"
    elif path:
        try:
            logging.config.fileConfig(path, disable_existing_loggers=False)
        except Exception as exc:  # a user's file: any failure is one clear line, not a traceback
            problem = f"cannot use LOGGING_CONF_FILE {path} ({type(exc).__name__}: {exc}). {fix}"
    if not path or problem:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        root.handlers[:] = [handler]
        root.setLevel(level or "INFO")
    elif level:
        root.setLevel(level)
    loggers = [root] + [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for handler in {h for lg in loggers for h in lg.handlers}:
        handler.addFilter(_Redact(secrets))
    return problem
