"""Settings: each one declared once, with its type, default and description.

``--about`` prints these declarations; ``load_config`` merges a user's files (and, for
``--config ENV``, the ``TAP_ASANA_<NAME>`` environment variables), validates them against
these declarations and returns a ``Config``. Nothing here touches the network.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import math
import os
from dataclasses import dataclass, fields
from typing import Any, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union
from urllib.parse import urlparse

from tap_asana.version import __version__

LOGGER = logging.getLogger("tap_asana")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: What the tap can do, as Meltano names it: printed by --about, declared in meltano.yml and listed
#: in the README (a test holds the three to this list). `properties` is left out although
#: --properties works (the legacy name of --catalog): Meltano asks a tap to declare one of the two.
CAPABILITIES = ("catalog", "discover", "state", "about", "test")


class Setting(NamedTuple):
    #: JSON type, or types (a list of gids may come as one comma-separated string)
    kind: Union[str, Tuple[str, ...]]
    default: Any
    description: str
    #: the rest of its JSON schema in --about (format, enum, items)
    schema: Mapping[str, Any] = {}


_GIDS = {"items": {"type": "string"}}

#: name -> Setting; the single list of settings.
SETTINGS: Dict[str, Setting] = {
    "access_token": Setting("string", None, "Personal access token or service-account token. Secret. Give this or the OAuth set."),
    "client_id": Setting("string", None, "OAuth app client id (OAuth form, with client_secret and refresh_token)."),
    "client_secret": Setting("string", None, "OAuth app client secret. Secret."),
    "refresh_token": Setting("string", None, "OAuth refresh token; access tokens are fetched and refreshed from it. Secret."),
    "redirect_uri": Setting("string", None, "OAuth redirect URI; accepted, sent with token refreshes when given."),
    "start_date": Setting("string", None, "ISO 8601 date-time: incremental streams send records at or after it until they have a bookmark. When not set: one year before the run.", {"format": "date-time"}),
    "request_timeout": Setting("number", 300, "Seconds allowed for one whole answer: connecting, headers and body. A body still arriving then is cut off and the request retried."),
    "api_url": Setting("string", "https://app.asana.com/api/1.0", "Base URL of the Asana API (https, or http on a loopback host)."),
    "oauth_token_url": Setting("string", "https://app.asana.com/-/oauth_token", "OAuth token endpoint (https, or http on a loopback host)."),
    "page_size": Setting("integer", 100, "Records per page, 1 to 100."),
    "max_workers": Setting("integer", 12, "Requests in flight at once, 1 to 45 (Asana allows 50 concurrent GETs per token)."),
    "requests_per_minute": Setting("integer", 1500, "Request budget per minute for this token: 1500 on paid plans, 150 on free. When not set, a workspace found to be on a free plan lowers it to 150."),
    "max_retries": Setting("integer", 8, "Tries for one request on 5xx, timeouts, dropped connections and bad bodies."),
    "max_pages": Setting("integer", 100000, "Most pages one listing may take before the run stops, taking it for a loop (10 million records at 100 a page)."),
    "log_level": Setting("string", "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL; the command line's --log-level wins.", {"enum": list(LOG_LEVELS)}),
    "safety_read_hours": Setting("number", 24, "Hours between two safety reads of a project: its tasks listed again, the net for changes whose events Asana lost (it delivers them at most once); only what changed is sent. 0: never (a lost event's change then waits for the task's next change)."),
    "metrics_log_level": Setting("string", "INFO", "Level of the METRIC lines' logger (tap_asana.metrics), as in Meltano SDK taps: WARNING, ERROR or CRITICAL drops them (one a request), DEBUG or INFO keeps them (shown when log_level lets INFO through).", {"enum": list(LOG_LEVELS)}),
    "workspace_gids": Setting(("array", "string"), None, "Read only these workspaces (gid strings, or one comma-separated string); all when not set.", _GIDS),
    "project_gids": Setting(("array", "string"), None, "Read only these projects and what hangs below them: sections, tasks, subtasks, stories (gid strings, or one comma-separated string); all when not set.", _GIDS),
}
#: `--config ENV` reads each setting from the variable TAP_ASANA_<NAME in upper case>, as Meltano
#: SDK taps do (``--config ENV``), so a token need never be written to a file.
ENV_SOURCE = "ENV"
ENV_PREFIX = "TAP_ASANA_"
SECRETS = ("access_token", "client_secret", "refresh_token")
#: How far ahead of this machine's clock a time from the state or Asana's clock may be.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: Asana began in 2008: an earlier start date or bookmark reads the same records as this one,
#: which stays clear of datetime's year-1 edge (a look-back from 0001-01-01 overflows).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class ConfigError(Exception):
    """A config problem, phrased for the user: what is wrong and what to do."""


@dataclass(frozen=True)
class Config:
    api_url: str
    oauth_token_url: str
    start_date: dt.datetime
    request_timeout: float
    page_size: int
    max_workers: int
    requests_per_minute: int
    max_retries: int
    max_pages: int = 100000
    safety_read_hours: float = 24.0
    access_token: Optional[str] = None
    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    refresh_token: Optional[str] = None
    redirect_uri: Optional[str] = None
    log_level: Optional[str] = None
    metrics_log_level: Optional[str] = None  # None: METRIC lines follow log_level
    workspace_gids: Tuple[str, ...] = ()  # empty: every workspace
    project_gids: Tuple[str, ...] = ()  # empty: every project
    #: the keys the user's file set (a default the tap may adapt, e.g. to a free plan, is not one)
    explicit: FrozenSet[str] = frozenset()

    @property
    def oauth(self) -> bool:
        return not self.access_token

    def __repr__(self) -> str:  # never show secrets, even in a debugger or a traceback
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in SECRETS}
        return f"Config({shown})"


def about() -> Dict[str, Any]:
    """What ``--about --format json`` prints, in the shape Meltano SDK taps use: settings as a
    JSON schema whose defaults are values (or null), never prose."""
    properties: Dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        kind = setting.kind if isinstance(setting.kind, str) else list(setting.kind)
        prop: Dict[str, Any] = {"type": kind, "default": setting.default, "description": setting.description,
                                **setting.schema}
        if name in SECRETS:
            prop.update(secret=True, writeOnly=True)
        properties[name] = prop
    return {
        "name": "tap-asana",
        "description": "Singer tap for Asana",
        "version": __version__,
        "capabilities": list(CAPABILITIES),
        "settings": {"type": "object", "properties": properties, "required": []},
    }


def about_markdown() -> str:
    """What ``--about --format markdown`` prints: the settings as a README table."""
    info = about()
    lines = [f"# `{info['name']}`", "", info["description"], "", "## Capabilities", ""]
    lines += [f"- `{c}`" for c in info["capabilities"]]
    lines += ["", "## Settings", "", "| Setting | Required | Default | Description |",
              "|:--------|:--------:|:-------:|:------------|"]
    for name, prop in info["settings"]["properties"].items():
        default = "" if prop["default"] is None else json.dumps(prop["default"])  # no default: an empty cell
        lines.append(f"| {name} | False | {default} | {prop['description'].replace('|', '&#124;')} |")
    lines += ["", "Give access_token, or client_id, client_secret and refresh_token.",
              f"A full list of settings and capabilities is printed by `{info['name']} --about --format json`.", ""]
    return "\n".join(lines)


def parse_datetime(value: str) -> dt.datetime:
    """ISO 8601 date or date-time; a zone-less value is UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    try:
        return parsed.astimezone(dt.timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 lies before year 1 in UTC
        raise ValueError(f"{value!r} is out of range") from None


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (null, a list, ...), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), f"a {type(value).__name__}")


def read_text(path: str, what: str, error: type) -> str:
    """A UTF-8 file's text (a byte-order mark, as some Windows editors write, is dropped)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise error(f"{what} file {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                    f"{exc.start}). Save it as UTF-8.") from None
    except OSError as exc:
        raise error(f"cannot read {what} file {path}: {exc.strerror}.") from None


def env_variable(name: str) -> str:
    """The environment variable that gives setting `name` with ``--config ENV``."""
    return ENV_PREFIX + name.upper()


def env_settings(environ: Mapping[str, str]) -> Dict[str, str]:
    """The settings the environment gives, as strings (numbers and comma-separated gid lists
    are read from strings anyway). An empty variable counts as unset: orchestrators often
    export every known variable, set or not."""
    return {name: environ[env_variable(name)] for name in SETTINGS if environ.get(env_variable(name), "") != ""}


def load_config(sources: Union[str, Sequence[str]], now: Optional[dt.datetime] = None,
                environ: Optional[Mapping[str, str]] = None) -> Config:
    """The config from each source in turn, later keys winning: a JSON file's path, or
    ``ENV`` for the TAP_ASANA_<NAME> environment variables."""
    data: Dict[str, Any] = {}
    for source in [sources] if isinstance(sources, str) else sources:
        if source == ENV_SOURCE:
            given = env_settings(os.environ if environ is None else environ)
            if not given:
                LOGGER.warning("--config ENV: no %s<SETTING> environment variable is set (e.g. %s)", ENV_PREFIX,
                               env_variable("access_token"))
            data.update(given)
        else:
            data.update(_config_file(source))
    return validate_config(data, now or dt.datetime.now(dt.timezone.utc))


def _config_file(path: str) -> Dict[str, Any]:
    try:
        raw = read_text(path, "config", ConfigError)
    except ConfigError as exc:
        raise ConfigError(f"{exc} Pass an existing UTF-8 JSON file with --config (or --config ENV for "
                          f"{ENV_PREFIX}<SETTING> environment variables).") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"config file {path} is not valid JSON ({exc.msg} at line {exc.lineno}). Fix the file; see sample_config.json.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object, not {json_kind(data)}. See sample_config.json.")
    return data


def validate_config(data: Mapping[str, Any], now: dt.datetime) -> Config:
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        LOGGER.warning("Ignoring unknown config keys: %s", ", ".join(unknown))
    for name in ("access_token", "client_id", "client_secret", "refresh_token", "redirect_uri", "api_url", "oauth_token_url", "start_date"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"config key {name} must be a string.")
    data = dict(data)
    for name in ("access_token", "client_id", "client_secret", "refresh_token"):
        value = data.get(name)
        if value and value != value.strip():
            # A token pasted with its line end: no credential holds whitespace at either end.
            LOGGER.warning("config key %s has spaces or a line end around it: removed them", name)
            data[name] = value = value.strip()
        if value and not all(32 < ord(c) < 127 for c in value):
            raise ConfigError(f"config key {name} holds a space, a control character or a non-ASCII character, "
                              "which no Asana credential has. Paste it again.")
    token = data.get("access_token")
    oauth_keys = [k for k in ("client_id", "client_secret", "refresh_token") if data.get(k)]
    if token is not None and not token.strip():
        raise ConfigError("config key access_token is empty. Put a personal access token there, or remove it and give client_id, client_secret and refresh_token.")
    if not token and len(oauth_keys) != 3:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if k not in oauth_keys]
        if oauth_keys:
            raise ConfigError(f"OAuth config is incomplete: missing {', '.join(missing)}. Give all three, or an access_token instead.")
        raise ConfigError("config has no credentials. Give access_token (a personal access token), or client_id, client_secret and refresh_token (OAuth).")
    if token and oauth_keys:
        LOGGER.info("access_token given: it is used and the OAuth keys are not")

    start = data.get("start_date")
    if start is None:
        start_date = now - dt.timedelta(days=365)
    else:
        try:
            start_date = parse_datetime(start)
        except ValueError:
            raise ConfigError(f"start_date {start!r} is not an ISO 8601 date-time. Use a form like 2024-01-31T00:00:00Z.") from None
        if start_date > now:
            raise ConfigError(f"start_date {start} lies in the future. Use a past date, or leave it out for one year back.")
        if start_date < EARLIEST:
            LOGGER.warning("start_date %s is before Asana existed: reading from %s, which sends the same records",
                           start, EARLIEST.strftime("%Y-%m-%dT%H:%M:%SZ"))
            start_date = EARLIEST

    return Config(
        api_url=_url(data, "api_url"),
        oauth_token_url=_url(data, "oauth_token_url"),
        start_date=start_date,
        request_timeout=_number(data, "request_timeout", low=0.001, high=3600),
        page_size=int(_number(data, "page_size", low=1, high=100, integer=True)),
        max_workers=int(_number(data, "max_workers", low=1, high=45, integer=True)),
        requests_per_minute=int(_number(data, "requests_per_minute", low=1, high=100000, integer=True)),
        max_retries=int(_number(data, "max_retries", low=1, high=100, integer=True)),
        max_pages=int(_number(data, "max_pages", low=1, high=10 ** 9, integer=True)),
        safety_read_hours=_number(data, "safety_read_hours", low=0, high=24 * 366),
        access_token=token or None,
        client_id=None if token else data.get("client_id"),
        client_secret=None if token else data.get("client_secret"),
        refresh_token=None if token else data.get("refresh_token"),
        redirect_uri=data.get("redirect_uri") or None,
        log_level=_log_level(data.get("log_level")),
        metrics_log_level=_log_level(data.get("metrics_log_level"), "metrics_log_level"),
        workspace_gids=_gids(data, "workspace_gids"),
        project_gids=_gids(data, "project_gids"),
        explicit=frozenset(k for k in SETTINGS if data.get(k) is not None),
    )


def _number(data: Mapping[str, Any], name: str, low: float, high: float, integer: bool = False) -> float:
    value = data.get(name, SETTINGS[name].default)
    if isinstance(value, str):  # Meltano and env-var configs often carry numbers as strings
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"config key {name} must be a number, not {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"config key {name} must be a number, not {value!r}.")
    if integer and value != int(value):
        raise ConfigError(f"config key {name} must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise ConfigError(f"config key {name} is {value:g}; it must lie between {low:g} and {high:g}.")
    return value


def _log_level(value: Any, name: str = "log_level") -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().upper() not in LOG_LEVELS:
        raise ConfigError(f"config key {name} is {value!r}; use one of {', '.join(LOG_LEVELS)}.")
    return value.strip().upper()


def _gids(data: Mapping[str, Any], name: str) -> Tuple[str, ...]:
    """A list of gid strings, or one comma-separated string (how env vars and UIs pass lists)."""
    value = data.get(name)
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"config key {name} must be a list of gid strings (\"{name}\": [\"1201234567890\"]) or "
                          f"a comma-separated string, not {value!r}. Quote each gid: as numbers they lose digits.")
    gids = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    bad = [g for g in gids if not g.isdigit() or not g.isascii()]
    if bad:
        raise ConfigError(f"config key {name} holds {', '.join(repr(b) for b in bad)}, not an Asana gid "
                          f"(digits only, as in the URL app.asana.com/0/<gid>).")
    return gids


def _url(data: Mapping[str, Any], name: str) -> str:
    url = (data.get(name) or SETTINGS[name].default).rstrip("/")
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"config key {name} is not an http(s) URL: {url!r}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(f"config key {name} must use https (plain http is allowed only on a loopback host), got {url!r}.")
    return url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secrets_of(config: Config) -> List[str]:
    return [v for v in (config.access_token, config.client_secret, config.refresh_token) if v]
