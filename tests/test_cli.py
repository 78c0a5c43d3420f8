"""Bad input gets one CRITICAL line, exit 1, no traceback, nothing on stdout."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fake_asana import FakeAsana
from tap_asana.discover import discover
from tests.tapkit import TAP_ENV, catalog_for, config_for

SECRET = "pat-SECRET-987"
GOOD = {"access_token": SECRET, "start_date": "2025-01-01T00:00:00Z"}
FUTURE = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tap(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tap_asana", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})


def catalog_selecting(*names: str) -> dict:
    catalog = discover()
    for entry in catalog["streams"]:
        if entry["stream"] in names:
            entry["metadata"][0]["metadata"]["selected"] = True
    return catalog


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/api/1.0"


CONFIG_CASES = {
    "missing file": None,
    "empty file": "",
    "not json": "{access_token: x",
    "not an object": "[1, 2]",
    "no auth form": {"start_date": "2025-01-01T00:00:00Z"},
    "empty token": {"access_token": ""},
    "half oauth": {"client_id": "a", "refresh_token": "b"},
    "timeout not numeric": {**GOOD, "request_timeout": "soon"},
    "page size 0": {**GOOD, "page_size": 0},
    "page size 500": {**GOOD, "page_size": 500},
    "start date not a date": {**GOOD, "start_date": "last tuesday"},
    "start date in the future": {**GOOD, "start_date": FUTURE},
    "http api_url off loopback": {**GOOD, "api_url": "http://asana.example.com/api/1.0"},
    "http token url off loopback": {**GOOD, "oauth_token_url": "http://asana.example.com/-/oauth_token"},
    "config not utf-8": b'{"access_token": "caf\xe9"}',
    "config in utf-16": json.dumps(GOOD).encode("utf-16"),
    "token with a space inside": {**GOOD, "access_token": "pat 987"},
    "token with a control character": {**GOOD, "access_token": "pat\x00987"},
    "token not ascii": {**GOOD, "access_token": "pat\u2013987"},
    "max_pages 0": {**GOOD, "max_pages": 0},
    "request_timeout negative": {**GOOD, "request_timeout": -1},
    "api_url not http": {**GOOD, "api_url": "ftp://app.asana.com/api/1.0"},
    "start date before year 1 in utc": {**GOOD, "start_date": "0001-01-01T00:00:00+05:00"},
    "log level unknown": {**GOOD, "log_level": "LOUD"},
    "workspace gids as numbers": {**GOOD, "workspace_gids": [1201234567890]},
    "project gid not digits": {**GOOD, "project_gids": "1201234567890, my-project"},
}
EXPECTED_WORDS = {
    "missing file": "cannot read config", "empty file": "not valid JSON", "not json": "not valid JSON",
    "not an object": "JSON object", "no auth form": "no credentials", "empty token": "access_token is empty",
    "half oauth": "missing client_secret", "timeout not numeric": "request_timeout must be a number",
    "page size 0": "page_size", "page size 500": "page_size", "start date not a date": "start_date",
    "start date in the future": "future", "http api_url off loopback": "https",
    "http token url off loopback": "oauth_token_url must use https",
    "config not utf-8": "not UTF-8 text (byte 0xe9", "config in utf-16": "not UTF-8",
    "token with a space inside": "access_token holds a space", "token with a control character": "access_token holds",
    "token not ascii": "access_token holds", "max_pages 0": "max_pages", "request_timeout negative": "request_timeout",
    "api_url not http": "not an http(s) URL", "start date before year 1 in utc": "start_date",
    "log level unknown": "log_level", "workspace gids as numbers": "workspace_gids must be a list of gid strings",
    "project gid not digits": "project_gids holds 'my-project'",
}


def assert_one_critical(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 1, result.stderr
    critical = [line for line in result.stderr.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1, result.stderr
    assert words in critical[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert SECRET not in result.stderr


def write(path: Path, content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config(tmp_path, case):
    content = CONFIG_CASES[case]
    if content is not None:
        write(tmp_path / "config.json", content)
    assert_one_critical(tap("--config", "config.json", "--discover", cwd=tmp_path), EXPECTED_WORDS[case])


CATALOG_CASES = {
    "catalog not json": ("catalog", "{", "not valid JSON"),
    "unknown stream": ("catalog", {"streams": [{"tap_stream_id": "invoices", "schema": {}, "metadata": []}]},
                       "invoices"),
    "selects nothing": ("catalog", discover(), "selects no stream"),
    "state not json": ("state", "{bookmarks", "not valid JSON"),
    "bookmark of the wrong type": ("state", {"bookmarks": {"tasks": {"modified_at": 17}}}, "tasks.modified_at"),
    "catalog not utf-8": ("catalog", b'{"streams": "\xff"}', "catalog file catalog.json is not UTF-8"),
    "state not utf-8": ("state", b'{"bookmarks": {"\xfe": {}}}', "state file state.json is not UTF-8"),
    "state a list": ("state", [{"bookmarks": {}}], "JSON object"),
    "state a string": ("state", '"2026-01-01"', "JSON object"),
    "bookmark in the future": ("state", {"bookmarks": {"tasks": {"modified_at": "2099-01-01T00:00:00Z"}}},
                               "bookmark tasks.modified_at is 2099-01-01T00:00:00Z, in the future"),
    "bookmark in the future, wrapped by Meltano": (
        "state", {"singer_state": {"bookmarks": {"tags": {"created_at": FUTURE}}}}, "bookmark tags.created_at"),
    "bookmark in the future, as a STATE message": (
        "state", {"type": "STATE", "value": {"bookmarks": {"tasks": {"modified_at": FUTURE}}}}, "in the future"),
    "progress started in the future": ("state", {"progress": {"started_at": "2099-01-01T00:00:00Z", "done": []}},
                                       "state.progress.started_at is 2099"),
    "sync token from the future": ("state", {"sync_tokens": {"7": {"sync": "t", "since": "2099-01-01T00:00:00Z",
                                                                   "read_in_full": "2026-01-01T00:00:00Z"}}},
                                   "state.sync_tokens.7.since is 2099"),
    "bookmark before year 1 in utc": ("state", {"bookmarks": {"tasks": {"modified_at": "0001-01-01T00:00:00+05:00"}}},
                                      "not an ISO 8601"),
    "meltano wrapper of a list": ("state", {"singer_state": [1]}, "JSON object"),
    "state message without an object": ("state", {"type": "STATE", "value": "x"}, "JSON object"),
    "metadata a dict": ("catalog", {"streams": [{"tap_stream_id": "tags", "metadata": {"selected": True}}]},
                        "'tags': \"metadata\" must be a list"),
    "properties a list": ("catalog", {"streams": [{"tap_stream_id": "tags", "schema": {"properties": ["gid"]}}]},
                          "'tags': \"schema.properties\""),
    "stream entry not an object": ("catalog", {"streams": ["tags"]}, "stream #1 is a string"),
}


@pytest.mark.parametrize("case", sorted(CATALOG_CASES))
def test_bad_catalog_or_state_leaves_the_state_file_untouched(tmp_path, case):
    kind, content, words = CATALOG_CASES[case]
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url()}))
    files = {"catalog": catalog_selecting("workspaces"), "state": {"bookmarks": {}}}
    files[kind] = content
    for name, value in files.items():
        write(tmp_path / f"{name}.json", value)
    before = (tmp_path / "state.json").read_bytes()
    result = tap("-c", "config.json", "--catalog", "catalog.json", "--state", "state.json", cwd=tmp_path)
    assert_one_critical(result, words)
    assert (tmp_path / "state.json").read_bytes() == before


def test_api_url_refusing_connections(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url(), "max_retries": 2}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting("workspaces")))
    result = tap("-c", "config.json", "--properties", "catalog.json", cwd=tmp_path)
    assert_one_critical(result, "connection refused")
    assert "127.0.0.1" in result.stderr and "Retrying" not in result.stderr  # nothing ever answered: at once


def test_a_state_file_that_is_a_directory_is_one_critical(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url()}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting("workspaces")))
    (tmp_path / "state.json").mkdir()
    result = tap("-c", "config.json", "--catalog", "catalog.json", "--state", "state.json", cwd=tmp_path)
    assert_one_critical(result, "cannot read state file state.json")


def test_a_token_pasted_with_its_line_end_is_stripped_with_a_warning(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "access_token": SECRET + "\r\n"}))
    result = tap("-c", "config.json", "--discover", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING config key access_token has spaces or a line end around it" in result.stderr


def test_a_config_with_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    assert tap("-c", "config.json", "--discover", cwd=tmp_path).returncode == 0


def test_a_start_date_of_year_one_reads_from_2000_with_a_warning(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "start_date": "0001-01-01T00:00:00Z"}))
    result = tap("-c", "config.json", "--discover", cwd=tmp_path)
    assert result.returncode == 0 and "reading from 2000-01-01T00:00:00Z" in result.stderr


def test_about_json_lists_every_setting_as_a_json_schema_with_values_as_defaults(tmp_path):
    for args in (["--about"], ["--about", "--format", "json"]):
        about = json.loads(tap(*args, cwd=tmp_path).stdout)
        assert set(about["capabilities"]) == {"discover", "catalog", "state", "about", "test"}
        settings = about["settings"]["properties"]
        assert {"access_token", "client_id", "client_secret", "refresh_token", "redirect_uri", "start_date",
                "request_timeout", "api_url", "oauth_token_url", "page_size", "log_level", "workspace_gids",
                "project_gids"} <= set(settings)
        python_type = {"string": str, "integer": int, "number": (int, float), "array": list}
        for name, prop in settings.items():
            assert prop["type"] and prop["description"]
            kinds = [prop["type"]] if isinstance(prop["type"], str) else prop["type"]
            assert prop["default"] is None or isinstance(prop["default"], tuple(python_type[k] for k in kinds)), name
        assert settings["start_date"]["default"] is None and "one year" in settings["start_date"]["description"]
        assert {n for n, p in settings.items() if p.get("secret")} == {"access_token", "client_secret", "refresh_token"}


def test_about_markdown_is_a_settings_table(tmp_path):
    result = tap("--about", "--format", "markdown", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("# `tap-asana`")
    assert "| Setting | Required | Default | Description |" in result.stdout
    assert "| start_date | False |  |" in result.stdout and "| page_size | False | 100 |" in result.stdout
    assert "None" not in result.stdout


def test_version(tmp_path):
    from tap_asana import __version__

    result = tap("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == f"tap-asana {__version__}\n"
    built = subprocess.run([sys.executable, "setup.py", "--version"], cwd=Path(__file__).parents[1],
                           capture_output=True, text=True)
    assert built.stdout.strip().splitlines()[-1] == __version__  # one place for the version


def failing_sync(tmp_path: Path, *args: str, env: dict = {}, **config) -> subprocess.CompletedProcess:
    """A sync whose every request is refused: it logs METRIC lines (INFO), retries (WARNING), one CRITICAL."""
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url(), "max_retries": 1, **config}))
    return subprocess.run([sys.executable, "-m", "tap_asana", "-c", "config.json", "--select", "workspaces", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), **env})


def test_log_level_from_the_config_and_the_command_line_wins(tmp_path):
    quiet = failing_sync(tmp_path, log_level="warning")
    assert_one_critical(quiet, "cannot reach")
    assert not [line for line in quiet.stderr.splitlines() if line.startswith("INFO")]
    loud = failing_sync(tmp_path, "--log-level", "info", log_level="ERROR")
    assert_one_critical(loud, "cannot reach")
    assert any(line.startswith("INFO METRIC: ") for line in loud.stderr.splitlines())


def test_logging_conf_file_is_honoured(tmp_path):
    (tmp_path / "logging.conf").write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=stderr\n[formatters]\nkeys=mine\n"
        "[logger_root]\nlevel=WARNING\nhandlers=stderr\n"
        "[handler_stderr]\nclass=StreamHandler\nformatter=mine\nargs=(sys.stderr,)\n"
        "[formatter_mine]\nformat=tap-asana | %(levelname)s | %(message)s\n")
    result = failing_sync(tmp_path, env={"LOGGING_CONF_FILE": str(tmp_path / "logging.conf")})
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and lines and all(line.startswith("tap-asana | ") for line in lines)
    assert any(line.startswith("tap-asana | CRITICAL | ") for line in lines)
    assert not any("| INFO |" in line for line in lines)


def test_a_logging_conf_file_that_is_not_there_is_one_critical(tmp_path):
    result = failing_sync(tmp_path, env={"LOGGING_CONF_FILE": str(tmp_path / "nope.conf")})
    assert_one_critical(result, "LOGGING_CONF_FILE")


def test_discover_with_patterns_prints_a_catalog_with_those_selections(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GOOD))
    result = tap("-c", "config.json", "--discover", "--select", "tasks", "--select", "stories.*",
                 "--deselect", "tasks.notes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    meta = {(e["stream"], tuple(m["breadcrumb"])): m["metadata"] for e in json.loads(result.stdout)["streams"]
            for m in e["metadata"]}
    assert {s for (s, crumb), m in meta.items() if crumb == () and m.get("selected")} == {"tasks", "stories"}
    assert meta[("tasks", ("properties", "notes"))]["selected"] is False
    assert meta[("tasks", ("properties", "name"))].get("selected", True) is True


def test_select_all_on_discover(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GOOD))
    catalog = json.loads(tap("-c", "config.json", "--discover", "--select-all", cwd=tmp_path).stdout)
    assert all(e["metadata"][0]["metadata"]["selected"] is True for e in catalog["streams"])


def test_a_select_pattern_matching_nothing_is_one_critical(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GOOD))
    assert_one_critical(tap("-c", "config.json", "--discover", "--select", "taks", cwd=tmp_path),
                        "--select 'taks' matches no stream or column")


def test_sync_with_patterns_and_no_catalog(tmp_path):
    with FakeAsana(preset="tiny", seed=5) as fake:
        (tmp_path / "config.json").write_text(json.dumps(config_for(fake)))
        result = tap("-c", "config.json", "--select", "workspaces", "--select", "tags.name", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    streams = {m["stream"] for m in records if m["type"] == "RECORD"}
    assert streams == {"workspaces", "tags"}
    tags = [m["record"] for m in records if m["type"] == "RECORD" and m["stream"] == "tags"]
    assert all(set(t) == {"gid", "name", "created_at"} for t in tags)


def test_config_lists_of_gids_and_explicit_keys():
    from tap_asana.config import validate_config

    now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    config = validate_config({**GOOD, "workspace_gids": " 12, 34,12,", "project_gids": ["56"]}, now)
    assert config.workspace_gids == ("12", "34") and config.project_gids == ("56",)
    assert "requests_per_minute" not in config.explicit and "workspace_gids" in config.explicit
    assert "requests_per_minute" in validate_config({**GOOD, "requests_per_minute": 1500}, now).explicit
    assert validate_config(GOOD, now).workspace_gids == () and validate_config(GOOD, now).log_level is None


def test_unknown_config_keys_are_ignored_with_a_warning(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "colour": "blue"}))
    result = tap("-c", "config.json", "--discover", cwd=tmp_path)
    assert result.returncode == 0
    assert "WARNING" in result.stderr and "colour" in result.stderr
    assert {s["stream"] for s in json.loads(result.stdout)["streams"]} >= {"tasks", "stories"}


# --- states from elsewhere, read against the fake Asana -----------------------------------------------
def _tags_run(tmp_path, fake, state, create: bool = True):
    from tests.tapkit import catalog_for, config_for, run_tap
    if not create:
        return run_tap(tmp_path, config_for(fake), catalog_for(["tags"]), args=["--state", "missing.json"])
    return run_tap(tmp_path, config_for(fake), catalog_for(["tags"]), state=state)


def _recent() -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_a_missing_state_file_is_a_first_run_with_a_warning(tmp_path, fake_asana):
    run = _tags_run(tmp_path, fake_asana, None, create=False)
    assert run.returncode == 0, run.stderr
    assert "State file missing.json does not exist" in run.stderr
    assert len(run.records("tags")) == len(fake_asana.export()["tags"])


@pytest.mark.parametrize("shape", ["STATE message", "meltano state get", "meltano stored", "singer-io tap-asana"])
def test_states_from_elsewhere_are_read_not_silently_ignored(tmp_path, fake_asana, shape):
    own = {"bookmarks": {"tags": {"created_at": _recent() + "Z"}}}
    state = {
        "STATE message": {"type": "STATE", "value": own},
        "meltano state get": {"singer_state": own},
        "meltano stored": {"completed": {"singer_state": {"bookmarks": {}}}, "partial": {"singer_state": own}},
        # the official tap: zone-less bookmarks, its interrupted stream inside bookmarks
        "singer-io tap-asana": {"bookmarks": {"currently_sync_stream": "tags", "tags": {"created_at": _recent()},
                                              "users": {"modified_at": _recent()}}},
    }[shape]
    run = _tags_run(tmp_path, fake_asana, state)
    assert run.returncode == 0, run.stderr
    assert run.records("tags") == []  # the bookmark was used: nothing created since
    if shape == "STATE message":  # what the README tells users to keep: read without a word
        assert "State file state.json" not in run.stderr
    elif shape.startswith("meltano"):
        assert "INFO State file state.json: state is Meltano's" in run.stderr
        assert "WARNING State file" not in run.stderr
    else:
        assert "WARNING State file state.json" in run.stderr
    if shape == "singer-io tap-asana":
        assert "interrupted run of singer-io's tap-asana" in run.stderr
        assert "bookmark users.modified_at is not used: users is read in full" in run.stderr
    assert set(run.final_state["bookmarks"]) == {"tags"}


def test_a_bookmark_on_another_key_says_where_the_stream_now_starts(tmp_path, fake_asana):
    run = _tags_run(tmp_path, fake_asana, {"bookmarks": {"tags": {"modified_at": _recent()}}})
    assert run.returncode == 0, run.stderr
    assert "bookmark tags.modified_at is not used: tags is bookmarked on created_at" in run.stderr
    assert len(run.records("tags")) == len(fake_asana.export()["tags"])


def test_a_year_one_bookmark_reads_from_2000_and_is_written_with_four_digit_years(tmp_path, fake_asana):
    run = _tags_run(tmp_path, fake_asana, {"bookmarks": {"tags": {"created_at": "0001-01-01T00:00:00Z"}}})
    assert run.returncode == 0, run.stderr
    assert "bookmark tags.created_at is before Asana existed" in run.stderr
    assert len(run.records("tags")) == len(fake_asana.export()["tags"])
    assert run.final_state["bookmarks"]["tags"]["created_at"][:4] == str(dt.datetime.now(dt.timezone.utc).year)


def test_an_unusable_state_names_its_file_and_what_to_do(tmp_path):
    (tmp_path / "st.json").write_text('{"bookmarks": []}')
    (tmp_path / "config.json").write_text(json.dumps(GOOD))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(["tags"])))
    result = subprocess.run([sys.executable, "-m", "tap_asana", "-c", "config.json", "--catalog", "catalog.json",
                             "--state", "st.json"], cwd=tmp_path, capture_output=True, text=True, env=TAP_ENV)
    critical = [line for line in result.stderr.splitlines() if line.startswith("CRITICAL")]
    assert result.returncode == 1 and len(critical) == 1
    assert "state file st.json" in critical[0] and "remove --state" in critical[0]
