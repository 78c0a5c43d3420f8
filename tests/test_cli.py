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

from tap_asana.discover import discover

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
}
EXPECTED_WORDS = {
    "missing file": "cannot read config", "empty file": "not valid JSON", "not json": "not valid JSON",
    "not an object": "JSON object", "no auth form": "no credentials", "empty token": "access_token is empty",
    "half oauth": "missing client_secret", "timeout not numeric": "request_timeout must be a number",
    "page size 0": "page_size", "page size 500": "page_size", "start date not a date": "start_date",
    "start date in the future": "future", "http api_url off loopback": "https",
    "http token url off loopback": "oauth_token_url must use https",
}


def assert_one_critical(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 1, result.stderr
    critical = [line for line in result.stderr.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1, result.stderr
    assert words in critical[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert SECRET not in result.stderr


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config(tmp_path, case):
    content = CONFIG_CASES[case]
    if content is not None:
        (tmp_path / "config.json").write_text(content if isinstance(content, str) else json.dumps(content))
    assert_one_critical(tap("--config", "config.json", "--discover", cwd=tmp_path), EXPECTED_WORDS[case])


CATALOG_CASES = {
    "catalog not json": ("catalog", "{", "not valid JSON"),
    "unknown stream": ("catalog", {"streams": [{"tap_stream_id": "invoices", "schema": {}, "metadata": []}]},
                       "invoices"),
    "selects nothing": ("catalog", discover(), "selects no stream"),
    "state not json": ("state", "{bookmarks", "not valid JSON"),
    "bookmark of the wrong type": ("state", {"bookmarks": {"tasks": {"modified_at": 17}}}, "tasks.modified_at"),
}


@pytest.mark.parametrize("case", sorted(CATALOG_CASES))
def test_bad_catalog_or_state_leaves_the_state_file_untouched(tmp_path, case):
    kind, content, words = CATALOG_CASES[case]
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url()}))
    files = {"catalog": catalog_selecting("workspaces"), "state": {"bookmarks": {}}}
    files[kind] = content
    for name, value in files.items():
        (tmp_path / f"{name}.json").write_text(value if isinstance(value, str) else json.dumps(value))
    before = (tmp_path / "state.json").read_bytes()
    result = tap("-c", "config.json", "--catalog", "catalog.json", "--state", "state.json", cwd=tmp_path)
    assert_one_critical(result, words)
    assert (tmp_path / "state.json").read_bytes() == before


def test_api_url_refusing_connections(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "api_url": closed_port_url(), "max_retries": 2}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting("workspaces")))
    result = tap("-c", "config.json", "--properties", "catalog.json", cwd=tmp_path)
    assert_one_critical(result, "connection failed")


def test_about_lists_every_setting_with_type_default_and_description(tmp_path):
    result = tap("--about", cwd=tmp_path)
    about = json.loads(result.stdout)
    assert set(about["capabilities"]) == {"discover", "catalog", "state", "properties"}
    names = {s["name"] for s in about["settings"]}
    assert {"access_token", "client_id", "client_secret", "refresh_token", "redirect_uri", "start_date",
            "request_timeout", "api_url", "oauth_token_url", "page_size"} <= names
    assert all(s["type"] and s["description"] and "default" in s for s in about["settings"])


def test_unknown_config_keys_are_ignored_with_a_warning(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "colour": "blue"}))
    result = tap("-c", "config.json", "--discover", cwd=tmp_path)
    assert result.returncode == 0
    assert "WARNING" in result.stderr and "colour" in result.stderr
    assert {s["stream"] for s in json.loads(result.stdout)["streams"]} >= {"tasks", "stories"}
