"""The first week in production: each point of that issue, checked through the real command
line against the fake Asana (127.0.0.1). Test names start with the point they check."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from fake_asana import FakeAsana
from tests.tapkit import RFC3339, ROOT, TAP_ENV, catalog_for, config_for, run_tap

RESUMABLE = "The last STATE written is safe to resume from."
NO_STATE = "No STATE was written: the next run starts where this one did."


def tap(cwd: Path, *args: str, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tap_asana", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**TAP_ENV, **(env or {})})


def criticals(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith("CRITICAL")]


def one_critical(result: subprocess.CompletedProcess) -> str:
    lines = criticals(result.stderr)
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path


# --- 6. every CRITICAL ends the same way ----------------------------------------------------------------
GOOD = {"access_token": "pat-SECRET-first-week", "start_date": "2025-01-01T00:00:00Z"}


def _failures(tmp_path: Path) -> Dict[str, subprocess.CompletedProcess]:
    """A failure of each kind the command line reports before any output."""
    write_json(tmp_path / "good.json", GOOD)
    write_json(tmp_path / "catalog.json", catalog_for(["tags"]))
    (tmp_path / "notjson.json").write_text("{")
    write_json(tmp_path / "state.json", {"bookmarks": {"tags": {"created_at": 17}}})
    with FakeAsana(preset="tiny", seed=3) as fake:
        write_json(tmp_path / "wrongtoken.json", {**config_for(fake), "access_token": "not-a-real-token"})
        wrong_token = tap(tmp_path, "-c", "wrongtoken.json", "--catalog", "catalog.json")
    return {
        "no config": tap(tmp_path, "--discover"),
        "config not json": tap(tmp_path, "-c", "notjson.json", "--discover"),
        "catalog not json": tap(tmp_path, "-c", "good.json", "--catalog", "notjson.json"),
        "state unusable": tap(tmp_path, "-c", "good.json", "--catalog", "catalog.json", "--state", "state.json"),
        "logging conf missing": tap(tmp_path, "--discover", env={"LOGGING_CONF_FILE": str(tmp_path / "nope")}),
        "pattern matching nothing": tap(tmp_path, "-c", "good.json", "--select", "taks"),
        "wrong token": wrong_token,
    }


def test_6_every_critical_before_any_output_ends_saying_no_state_was_written(tmp_path):
    for case, result in _failures(tmp_path).items():
        line = one_critical(result)
        assert line.endswith(NO_STATE), (case, line)
        assert result.stdout == "", case


def test_6_a_critical_after_a_state_ends_saying_it_is_safe_to_resume_from(tmp_path):
    with FakeAsana(preset="tiny", seed=4, latency_ms=40) as fake:
        write_json(tmp_path / "config.json", config_for(fake))
        write_json(tmp_path / "catalog.json", catalog_for())
        proc = subprocess.Popen([sys.executable, "-m", "tap_asana", "-c", "config.json", "--catalog", "catalog.json"],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=TAP_ENV)
        for line in proc.stdout:
            if line.startswith('{"type":"STATE"'):
                break
        proc.stdout.close()  # the target went away after the first STATE
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    lines = criticals(err)
    assert len(lines) == 1 and "The target closed the tap's output" in lines[0], err
    assert lines[0].endswith(RESUMABLE)


# --- 7. messages that mislead -------------------------------------------------------------------------
def test_7_a_wrong_personal_access_token_says_access_token_is_rejected(tmp_path):
    line = one_critical(_failures(tmp_path)["wrong token"])
    assert "rejected the credentials" in line and "access_token is wrong, revoked or expired" in line
    assert "not-a-real-token" not in line


def test_7_a_refused_oauth_refresh_names_the_refresh_token_not_access_token(tmp_path):
    with FakeAsana(preset="tiny", seed=5) as fake:
        config = {**config_for(fake, oauth=True), "refresh_token": "wrong-refresh-SECRET"}
        bad_client = {**config_for(fake, oauth=True), "client_secret": "wrong-client-SECRET"}
        refused = run_tap(tmp_path / "grant", config, catalog_for(["tags"]))
        unknown_app = run_tap(tmp_path / "client", bad_client, catalog_for(["tags"]))
    line = one_critical(refused)
    assert "refused the OAuth refresh" in line and "refresh_token is not accepted" in line, line
    assert "access_token" not in line and "wrong-refresh-SECRET" not in refused.stderr
    line = one_critical(unknown_app)
    assert "check client_id and client_secret" in line and "access_token" not in line, line
    assert "wrong-client-SECRET" not in unknown_app.stderr


def test_7_a_state_file_holding_null_says_null_not_a_python_type(tmp_path):
    write_json(tmp_path / "config.json", GOOD)
    write_json(tmp_path / "catalog.json", catalog_for(["tags"]))
    (tmp_path / "state.json").write_text("null")
    line = one_critical(tap(tmp_path, "-c", "config.json", "--catalog", "catalog.json", "--state", "state.json"))
    assert "state must be a JSON object, not null" in line and "NoneType" not in line


def test_7_a_bookmark_of_a_stream_the_tap_does_not_have_says_so(tmp_path, fake_asana):
    state = {"bookmarks": {"foo": {"updated_at": "2026-01-01T00:00:00Z"}}}
    run = run_tap(tmp_path, config_for(fake_asana), catalog_for(["tags"]), state=state)
    assert run.returncode == 0, run.stderr
    assert "WARNING State file state.json: bookmark foo.updated_at is not used: tap-asana has no stream foo" \
        in run.stderr
    assert "read in full" not in run.stderr
    assert "foo" not in run.final_state["bookmarks"]


def test_7_select_all_deselect_all_without_a_catalog_names_the_patterns(tmp_path):
    write_json(tmp_path / "config.json", GOOD)
    line = one_critical(tap(tmp_path, "-c", "config.json", "--select-all", "--deselect", "*"))
    assert "the patterns leave no stream selected: --select-all --deselect '*'" in line, line
    assert "catalog" not in line


def test_7_format_without_about_says_it_needs_about(tmp_path):
    line = one_critical(tap(tmp_path, "--format", "markdown"))
    assert "--format markdown chooses how --about prints the settings" in line, line
    assert "no config given" not in line


def test_7_a_column_pattern_matching_nothing_lists_that_streams_columns(tmp_path):
    write_json(tmp_path / "config.json", GOOD)
    line = one_critical(tap(tmp_path, "-c", "config.json", "--discover", "--select", "tasks.nosuch"))
    assert "--select 'tasks.nosuch' matches no column of tasks. Its columns: gid," in line, line
    assert "notes" in line and "Streams:" not in line and "portfolios" not in line


# --- 4. state round-trips as the README shows ------------------------------------------------------------
def _recent(minutes: int = 1) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize("shape", ["value", "STATE message"])
def test_4_the_last_state_or_its_value_is_read_without_a_warning(tmp_path, fake_asana, shape):
    value = {"bookmarks": {"tags": {"created_at": _recent()}}}
    state = value if shape == "value" else {"type": "STATE", "value": value}
    run = run_tap(tmp_path, config_for(fake_asana), catalog_for(["tags"]), state=state)
    assert run.returncode == 0, run.stderr
    assert run.records("tags") == []  # the bookmark was used
    assert "WARNING" not in run.stderr and "State file" not in run.stderr


def test_4_a_file_of_several_json_lines_uses_the_last_noted_at_info(tmp_path, fake_asana):
    old = {"bookmarks": {"tags": {"created_at": "2020-01-01T00:00:00.000Z"}}}
    new = {"bookmarks": {"tags": {"created_at": _recent()}}}
    (tmp_path / "states.jsonl").write_text(f"{json.dumps(old)}\n{json.dumps(old)}\n{json.dumps(new)}\n")
    run = run_tap(tmp_path, config_for(fake_asana), catalog_for(["tags"]), args=["--state", "states.jsonl"])
    assert run.returncode == 0, run.stderr
    assert "INFO State file states.jsonl holds 3 JSON lines (a target's output): using the last one" in run.stderr
    assert "WARNING" not in run.stderr
    assert run.records("tags") == []  # the last line's bookmark, not the first's


def test_4_json_lines_with_a_line_that_is_not_json_is_one_critical(tmp_path):
    write_json(tmp_path / "config.json", GOOD)
    write_json(tmp_path / "catalog.json", catalog_for(["tags"]))
    (tmp_path / "state.json").write_text('{"bookmarks": {}}\nINFO not json\n{"bookmarks": {}}\n')
    line = one_critical(tap(tmp_path, "-c", "config.json", "--catalog", "catalog.json", "--state", "state.json"))
    assert "neither one JSON document nor JSON lines (line 2 is not JSON)" in line and line.endswith(NO_STATE)


# --- 2. --config ENV ---------------------------------------------------------------------------------------
def _env(config: Dict[str, object]) -> Dict[str, str]:
    """A config as TAP_ASANA_<SETTING> variables, every value a string (as environments carry them)."""
    return {f"TAP_ASANA_{k.upper()}": ",".join(v) if isinstance(v, list) else str(v) for k, v in config.items()}


def test_2_config_env_alone_reads_every_setting_from_tap_asana_variables(tmp_path):
    with FakeAsana(preset="tiny", seed=6) as fake:
        workspaces = [w["gid"] for w in fake.export()["workspaces"]]
        env = _env({**config_for(fake), "page_size": 2, "workspace_gids": workspaces[:1], "log_level": "debug"})
        env["TAP_ASANA_REDIRECT_URI"] = ""  # empty: unset
        write_json(tmp_path / "catalog.json", catalog_for(["workspaces", "tags"]))
        result = tap(tmp_path, "--config", "ENV", "--catalog", "catalog.json", env=env)
        requests = fake.requests()
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert [m["record"]["gid"] for m in messages if m["type"] == "RECORD" and m["stream"] == "workspaces"] \
        == workspaces[:1]  # TAP_ASANA_WORKSPACE_GIDS, a comma-separated string
    assert any("limit=2" in r for r in requests if "/tags" in r)  # TAP_ASANA_PAGE_SIZE, a number as a string
    assert "DEBUG" in result.stderr  # TAP_ASANA_LOG_LEVEL
    assert fake.pat not in result.stderr and "Ignoring unknown config keys" not in result.stderr


def test_2_config_env_beside_a_file_merges_in_the_order_given_later_wins(tmp_path):
    with FakeAsana(preset="tiny", seed=7) as fake:
        write_json(tmp_path / "config.json", {**config_for(fake), "access_token": "stale-token-SECRET"})
        write_json(tmp_path / "catalog.json", catalog_for(["workspaces"]))
        env = {"TAP_ASANA_ACCESS_TOKEN": fake.pat, "TAP_ASANA_SHARD_A_ACCESS_TOKEN": "x", "TAP_ASANA_DEMO_OUT": "y"}
        env_wins = tap(tmp_path, "-c", "config.json", "--config", "ENV", "--catalog", "catalog.json", env=env)
        file_wins = tap(tmp_path, "--config", "ENV", "-c", "config.json", "--catalog", "catalog.json", env=env)
    assert env_wins.returncode == 0, env_wins.stderr
    assert "WARNING" not in env_wins.stderr  # other TAP_ASANA_ variables (Meltano's, the demo's) are no settings
    line = one_critical(file_wins)
    assert "rejected the credentials" in line
    for result in (env_wins, file_wins):
        assert fake.pat not in result.stderr and "stale-token-SECRET" not in result.stderr


def test_2_config_env_with_nothing_set_says_which_variables_it_reads(tmp_path):
    env = {k: v for k, v in TAP_ENV.items() if not k.startswith("TAP_ASANA_")}
    result = subprocess.run([sys.executable, "-m", "tap_asana", "--config", "ENV", "--discover"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, env=env)
    line = one_critical(result)
    assert "config has no credentials" in line
    assert "WARNING --config ENV: no TAP_ASANA_<SETTING> environment variable is set (e.g. TAP_ASANA_ACCESS_TOKEN)" \
        in result.stderr


# --- 3. a shard key naming gids the token cannot see ------------------------------------------------------
def _shard_run(tmp_path: Path, fake, **shard) -> "object":
    return run_tap(tmp_path, config_for(fake, **shard), catalog_for())


def test_3_workspace_gids_naming_an_unseen_workspace_stops_before_any_record(tmp_path, fake_asana):
    run = _shard_run(tmp_path, fake_asana, workspace_gids="999")
    line = one_critical(run)
    assert "config key workspace_gids names 999, which is not among the workspaces this token can see" in line
    assert line.endswith(NO_STATE) and run.stdout == ""


def test_3_project_gids_naming_an_unseen_project_stops_before_any_record(tmp_path, fake_asana):
    known = fake_asana.export()["projects"][0]["gid"]
    run = _shard_run(tmp_path, fake_asana, project_gids=f"{known},999")
    line = one_critical(run)
    assert "config key project_gids names 999, which this token cannot read (999: Asana answered 404" in line, line
    assert known not in line.split("(")[0] and line.endswith(NO_STATE) and run.stdout == ""


def test_3_a_project_of_a_workspace_the_shard_leaves_out_counts_as_not_visible(tmp_path, fake_asana):
    export = fake_asana.export()
    workspace = export["workspaces"][0]["gid"]
    elsewhere = next(p["gid"] for p in export["projects"] if p["workspace"]["gid"] != workspace)
    run = _shard_run(tmp_path, fake_asana, workspace_gids=[workspace], project_gids=[elsewhere])
    line = one_critical(run)
    assert f"config key project_gids names {elsewhere}" in line
    assert "which workspace_gids leaves out" in line and run.stdout == ""


def test_3_a_shard_the_token_can_see_runs_with_one_request_per_project_more(tmp_path, fake_asana):
    export = fake_asana.export()
    project = export["projects"][0]
    run = run_tap(tmp_path, config_for(fake_asana, workspace_gids=[project["workspace"]["gid"]],
                                       project_gids=[project["gid"]]), catalog_for(["projects"]))
    assert run.returncode == 0, run.stderr
    assert [r["gid"] for r in run.records("projects")] == [project["gid"]]
    assert sum(1 for line in fake_asana.requests() if line.startswith(f"GET /api/1.0/projects/{project['gid']}?")) == 1


# --- 1. --test ---------------------------------------------------------------------------------------------
def test_1_test_reports_the_user_each_workspaces_plan_and_workspace_events(tmp_path, fake_asana):
    export = fake_asana.export()
    write_json(tmp_path / "config.json", config_for(fake_asana))
    result = tap(tmp_path, "-c", "config.json", "--test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    me = next(u for u in export["users"] if u["gid"] == export["meta"]["me"])
    assert lines[0].startswith(f"Credentials work: user {me['name']} ({me['gid']})")
    free = set(export["meta"]["free_workspaces"])
    for workspace in export["workspaces"]:
        line = next(l for l in lines if l.startswith(f"Workspace {workspace['name']} ({workspace['gid']})"))
        assert ("free plan (search answers 402" if workspace["gid"] in free else "premium plan (search answers)") in line
        assert line.endswith("workspace events: not available (402)")  # a personal access token, no Enterprise+
    assert lines[-1] == "OK: a sync with this config can start." and len(lines) <= 6
    assert not any(line.startswith("{") for line in lines)  # no Singer message
    requests = fake_asana.requests()
    assert all("/tasks/search?limit=1&opt_fields=name" in r for r in requests if "/tasks/search" in r)
    assert not any("/projects" in r or "/tasks?" in r for r in requests)  # nothing is synced
    assert fake_asana.pat not in result.stderr + result.stdout


def test_1_test_reports_workspace_events_available_to_a_service_account_on_enterprise(tmp_path):
    with FakeAsana(preset="tiny", seed=3, plan="enterprise") as fake:
        write_json(tmp_path / "config.json", config_for(fake, access_token=fake.options.service_account_token))
        result = tap(tmp_path, "-c", "config.json", "--test")
        org = next(w for w in fake.export()["workspaces"] if w["is_organization"])
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith(f"Workspace {org['name']}"))
    assert "premium plan" in line and line.endswith("workspace events: available")


def test_1_test_checks_the_shard_keys_and_fails_on_a_gid_it_cannot_see(tmp_path, fake_asana):
    export = fake_asana.export()
    project = export["projects"][0]
    workspace = project["workspace"]["gid"]
    write_json(tmp_path / "ok.json", config_for(fake_asana, workspace_gids=workspace, project_gids=[project["gid"]]))
    write_json(tmp_path / "bad.json", config_for(fake_asana, project_gids=["999"]))
    ok = tap(tmp_path, "-c", "ok.json", "--test")
    assert ok.returncode == 0, ok.stderr
    assert f"workspace_gids: {workspace}: visible" in ok.stdout
    assert f"project_gids: {project['name']} ({project['gid']}): visible, in workspace {workspace}" in ok.stdout
    others = [w for w in export["workspaces"] if w["gid"] != workspace]
    assert all(f"({w['gid']}): left out by workspace_gids" in ok.stdout for w in others)
    bad = tap(tmp_path, "-c", "bad.json", "--test")
    line = one_critical(bad)
    assert "config key project_gids names 999" in line and bad.stdout == ""


def test_1_test_with_a_rejected_token_is_one_critical(tmp_path, fake_asana):
    write_json(tmp_path / "config.json", {**config_for(fake_asana), "access_token": "not-a-real-token"})
    result = tap(tmp_path, "-c", "config.json", "--test")
    line = one_critical(result)
    assert "rejected the credentials" in line and result.stdout == "" and line.endswith(NO_STATE)


@pytest.mark.parametrize("status, body, says", [
    (200, {"data": [], "sync": "s1", "has_more": False}, "available"),
    (412, {"errors": [{"message": "Sync token invalid or too old."}], "sync": "s2"}, "available"),
    (402, {"errors": [{"message": "premium only"}]}, "not available (402)"),
    (403, {"errors": [{"message": "Forbidden"}]}, "not available (403)"),
])
def test_1_workspace_events_available_on_a_200_or_the_412_that_hands_over_a_token(status, body, says):
    import responses

    from tap_asana import access
    from tap_asana.client import AsanaClient
    from tests.conftest import API, make_config

    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{API}/workspaces/7/events", json=body, status=status)
        assert access._events(AsanaClient(make_config()), "7") == says


# --- 5. time_extracted -------------------------------------------------------------------------------------
def _time(value: str):
    import datetime as dt

    assert value.endswith("Z") and RFC3339.match(value), value
    return dt.datetime.fromisoformat(value[:-1] + "+00:00")


def test_5_every_record_and_delete_carries_when_its_page_was_read(tmp_path):
    import datetime as dt

    with FakeAsana(preset="tiny", seed=8, latency_ms=20) as fake:
        before = dt.datetime.now(dt.timezone.utc)
        first = run_tap(tmp_path / "full", config_for(fake), catalog_for())
        after = dt.datetime.now(dt.timezone.utc)
        deleted = fake.mutate("delete_tasks", count=1)["gids"]
        second = run_tap(tmp_path / "next", config_for(fake), catalog_for(), state=first.final_state)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    records = [m for m in first.messages if m["type"] == "RECORD"]
    assert records and all(before <= _time(m["time_extracted"]) <= after for m in records)
    # a page's records share the time its answer arrived; different pages arrived at different times
    stories = [m["time_extracted"] for m in records if m["stream"] == "stories"]
    pages = int(re.search(r"Extracted stories: \d+ records?, (\d+) pages?", first.stderr).group(1))
    assert 1 < len(set(stories)) <= pages < len(stories)
    deletes = [m for m in second.messages if m["type"] == "RECORD" and m["record"].get("_sdc_deleted_at")]
    assert {m["record"]["gid"] for m in deletes} >= set(deleted)
    assert all(_time(m["time_extracted"]) > after for m in deletes)


STAND_IN_TARGET = '''#!{python}
"""A stand-in for target-jsonl: keeps RECORDs in records.jsonl and, as real targets do, prints
the value of each STATE on a line of stdout once the records before it are stored."""
import json, os, sys

with open("records.jsonl", "a") as records:
    for line in sys.stdin:
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.write(json.dumps(message["record"]) + "\\n")
        elif message["type"] == "STATE":
            records.flush()
            print(json.dumps(message["value"]), flush=True)
            if os.environ.get("STAND_IN_FAILS"):
                sys.exit(1)  # a target that stops halfway, after passing on a STATE
'''
FAILING_TAP = """#!/bin/sh
echo '{"type":"STATE","value":{"bookmarks":{},"progress":{"started_at":"2026-01-01T00:00:00.000Z","done":[]}}}'
echo 'CRITICAL a stand-in tap that fails after a STATE' >&2
exit 1
"""


def readme_cron_command() -> str:
    """The cron line of README.md's "Running from cron", less its five schedule fields."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Running from cron"):]
    line = next(l for l in section.splitlines() if re.match(r"^    0 \* \* \* \* ", l))
    assert "SHELL=/bin/bash" in section[:section.index(line)]
    return line.strip().split(" ", 5)[5]


def test_4_the_readme_cron_line_keeps_the_last_state_and_survives_failed_runs(tmp_path):
    command = readme_cron_command()
    home, bin_dir, failing = tmp_path / "home", tmp_path / "bin", tmp_path / "failing"
    work = home / "asana"
    for folder in (work, bin_dir, failing):
        folder.mkdir(parents=True)
    (bin_dir / "tap-asana").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tap_asana "$@"\n')
    (bin_dir / "target-jsonl").write_text(STAND_IN_TARGET.replace("{python}", sys.executable))
    (failing / "tap-asana").write_text(FAILING_TAP)
    for script in (bin_dir / "tap-asana", bin_dir / "target-jsonl", failing / "tap-asana"):
        script.chmod(0o755)
    env = {"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)}

    def cron(**extra: str) -> int:
        return subprocess.run(["bash", "-c", command], env={**env, **extra}, cwd=tmp_path, timeout=120).returncode

    def tags_stored() -> int:
        return sum(1 for _ in (work / "records.jsonl").open()) if (work / "records.jsonl").exists() else 0

    with FakeAsana(preset="tiny", seed=9) as fake:
        write_json(work / "config.json", config_for(fake))
        write_json(work / "catalog.json", catalog_for(["tags"]))
        tags = len(fake.export()["tags"])
        assert cron() == 0, (work / "tap.log").read_text()
        first = json.loads((work / "state.json").read_text())
        assert set(first["bookmarks"]) == {"tags"} and "progress" not in first
        assert tags_stored() == tags

        assert cron() == 0, (work / "tap.log").read_text()  # the second run reads the first one's state
        second = (work / "state.json").read_bytes()
        assert tags_stored() == tags  # nothing new since the bookmark
        assert json.loads(second)["bookmarks"]["tags"]["created_at"] >= first["bookmarks"]["tags"]["created_at"]
        assert (work / "tap.log").read_text().count("does not exist: taking this for a first run") == 1

        assert cron(PATH=f"{failing}:{env['PATH']}") != 0  # the tap fails after a STATE
        assert (work / "state.json").read_bytes() == second
        assert cron(STAND_IN_FAILS="1") != 0  # the target stops after its first STATE
        assert (work / "state.json").read_bytes() == second
        write_json(work / "config.json", {**config_for(fake), "access_token": "revoked"})
        assert cron() != 0  # the tap fails before any STATE
        assert (work / "state.json").read_bytes() == second
    assert "rejected the credentials" in (work / "tap.log").read_text()


# --- 7. progress and summary lines in the user's words ------------------------------------------------------
def test_7_the_summary_names_what_was_read_in_plain_words_and_counts_in_singular_and_plural(tmp_path, fake_asana):
    run = run_tap(tmp_path, config_for(fake_asana), catalog_for())
    assert run.returncode == 0, run.stderr
    lines = [line[len("INFO "):] for line in run.stderr.splitlines() if line.startswith("INFO ")]
    assert any(re.match(r"Read the search for changed tasks: \d+ pages?, ", line) for line in lines)
    assert "Extracted workspaces: 2 records, 1 page, " in run.stderr  # the fake's two workspaces, one page
    assert any(line.startswith("Read users' tasks in no project: ") for line in lines)  # its free one
    assert any(line.startswith("Read projects' events: ") for line in lines)
    reads = [line for line in lines if line.startswith("Read ")]
    assert len(reads) >= 4 and not any("for the walk" in line for line in reads)
    for internal in ("task_search", "task", "assigned_tasks", "events", "team_members", "portfolio_items"):
        assert not any(line.startswith(f"Read {internal}") for line in reads), internal
    assert not re.search(r"\b1 (records|pages|requests|rate-limit waits)\b", run.stderr)
    assert not re.search(r"\b(0|[2-9]|\d\d+) (record|page|request|rate-limit wait)\b[,:)]", run.stderr)
    assert re.search(r"Sync finished in [\d.]+s: \d+ records, \d+ requests, 0 rate-limit waits", run.stderr)


# --- 8. smaller truths -------------------------------------------------------------------------------------
def test_8_about_types_gid_lists_as_array_or_string_and_start_date_as_a_date_time(tmp_path):
    about = json.loads(tap(tmp_path, "--about").stdout)
    settings = about["settings"]["properties"]
    for name in ("workspace_gids", "project_gids"):
        assert settings[name]["type"] == ["array", "string"] and settings[name]["items"] == {"type": "string"}
    assert settings["start_date"]["format"] == "date-time"
    assert settings["metrics_log_level"]["default"] == "INFO" and "WARNING" in settings["metrics_log_level"]["enum"]


def test_8_about_markdown_leaves_a_setting_without_a_default_empty(tmp_path):
    table = tap(tmp_path, "--about", "--format", "markdown").stdout
    assert "| access_token | False |  | " in table and "| workspace_gids | False |  | " in table
    assert "None" not in table and '| log_level | False | "INFO" |' in table


def test_8_capabilities_and_settings_are_one_list_in_about_meltano_yml_and_the_readme(tmp_path):
    import yaml

    from tap_asana.config import SETTINGS

    about = json.loads(tap(tmp_path, "--about").stdout)
    extractor = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"][0]
    assert extractor["capabilities"] == about["capabilities"]
    assert "test" in about["capabilities"]
    assert [s["name"] for s in extractor["settings"]] == list(SETTINGS) == list(about["settings"]["properties"])
    readme = (ROOT / "README.md").read_text()
    lists = re.findall(r"capabilities \(?((?:`[a-z-]+`,? ?)+)", readme)
    assert len(lists) >= 2
    for found in lists:
        assert re.findall(r"`([a-z-]+)`", found) == about["capabilities"], found
    table = re.findall(r"^\| `([a-z_]+)`", readme[readme.index("### Config"):readme.index("### Checking")], re.M)
    assert set(table) | {"client_secret", "refresh_token"} == set(SETTINGS)  # the OAuth trio shares a row


def test_8_metrics_log_level_warning_drops_metric_lines_and_keeps_the_summary(tmp_path, fake_asana):
    catalog = catalog_for(["workspaces", "tags", "projects"])
    loud = run_tap(tmp_path / "loud", config_for(fake_asana), catalog)
    requests = int(re.search(r"Sync finished in [\d.]+s: \d+ records?, (\d+) requests?", loud.stderr).group(1))
    timers = [l for l in loud.stderr.splitlines() if l.startswith("INFO METRIC: ") and "http_request_duration" in l]
    assert loud.returncode == 0 and len(timers) == requests  # the Singer convention by default: one a request
    quiet = run_tap(tmp_path / "quiet", config_for(fake_asana, metrics_log_level="warning"), catalog)
    assert quiet.returncode == 0, quiet.stderr
    assert "METRIC" not in quiet.stderr
    assert "Extracted tags: " in quiet.stderr and "Requests GET /tags: " in quiet.stderr and "Sync finished" in quiet.stderr
    counts = {stream: len(records) for stream, records in loud.by_stream().items()}
    assert {stream: len(records) for stream, records in quiet.by_stream().items()} == counts  # output untouched


def test_8_the_distribution_ships_tap_asana_alone_and_the_fake_stays_in_the_checkout(tmp_path):
    result = subprocess.run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    info = tmp_path / "tap_asana.egg-info"
    assert (info / "top_level.txt").read_text().split() == ["tap_asana"]  # what an install puts on sys.path
    sources = (info / "SOURCES.txt").read_text().splitlines()
    assert "tap_asana/access.py" in sources and not any(line.startswith("fake_asana") for line in sources)
    makefile = (ROOT / "Makefile").read_text()
    assert "export PYTHONPATH := $(CURDIR)" in makefile  # make test, demo and bench find the fake here
    for script in ("scripts/demo.py", "scripts/meltano_check.py", "scripts/postgres_check.py",
                   "scripts/stitch_check.py", "bench/run.py"):
        text = (ROOT / script).read_text()
        assert "sys.path.insert(0, str(ROOT))" in text.split("from fake_asana import")[0], script


def test_9_no_file_cites_a_file_the_repository_does_not_ship():
    """The notes and the spec beside the checkout are not shipped: code and docs cite Asana's
    public documentation or the spec's operation IDs instead."""
    outside = re.compile("asana-api" + r"\.md|\.\./" + "shared")
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", "build", "dist"}
    citing = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if skip & set(parts) or any(p.endswith(".egg-info") for p in parts) or not path.is_file():
            continue
        if path.suffix in {".py", ".md", ".json", ".yml", ".yaml", ".txt", ".cfg", ""}:
            if outside.search(path.read_text(errors="replace")):
                citing.append(str(path.relative_to(ROOT)))
    assert citing == []
