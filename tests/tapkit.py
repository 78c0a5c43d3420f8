"""Helpers for tests that run the real `tap-asana` entry point against the fake Asana:
run it, parse and validate its Singer output, and compute from the fake's own copy of
the data what a sync must emit (an oracle written independently of the tap's walk)."""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set

import jsonschema

from tap_asana.client import format_asana_time, parse_asana_time
from tap_asana.discover import discover
from tap_asana.streams import STREAMS

ROOT = Path(__file__).resolve().parents[1]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
START_DATE = "2020-01-01T00:00:00Z"


def config_for(fake: Any, oauth: bool = False, **extra: Any) -> Dict[str, Any]:
    # requests_per_minute set: the fake does not limit unless told to, and a workspace found free
    # would otherwise lower the tap's budget to a free plan's 150 a minute
    config: Dict[str, Any] = {"api_url": fake.api_url, "oauth_token_url": fake.token_url,
                              "start_date": START_DATE, "max_retries": 5, "requests_per_minute": 1500}
    config.update(fake.oauth if oauth else {"access_token": fake.pat})
    config.update(extra)
    return config


def catalog_for(streams: Optional[Iterable[str]] = None, deselect: Mapping[str, Iterable[str]] = {}) -> Dict[str, Any]:
    """The discovered catalog with `streams` selected (all by default), some columns off."""
    catalog = discover()
    wanted = set(streams) if streams is not None else {e["stream"] for e in catalog["streams"]}
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            crumb = meta["breadcrumb"]
            if not crumb:
                meta["metadata"]["selected"] = entry["stream"] in wanted
            elif crumb[1] in deselect.get(entry["stream"], ()):
                meta["metadata"]["selected"] = False
    return catalog


class TapRun:
    def __init__(self, result: subprocess.CompletedProcess):
        self.returncode = result.returncode
        self.stderr = result.stderr
        self.stdout = result.stdout
        self.messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    @property
    def states(self) -> List[Dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> Dict[str, Any]:
        return self.states[-1]

    def records(self, stream: str) -> List[Dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def by_stream(self) -> Dict[str, List[Dict[str, Any]]]:
        out: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        for m in self.messages:
            if m["type"] == "RECORD":
                out[m["stream"]].append(m["record"])
        return dict(out)


TAP_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def tap_command(workdir: Path, config: Dict[str, Any], catalog: Dict[str, Any],
                state: Optional[Dict[str, Any]] = None, args: Iterable[str] = ()) -> List[str]:
    """Write the tap's input files into `workdir`; the command that runs it there."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    cmd = [sys.executable, "-m", "tap_asana", "-c", "config.json", "--catalog", "catalog.json", *args]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        cmd += ["--state", "state.json"]
    return cmd


def run_tap(workdir: Path, config: Dict[str, Any], catalog: Dict[str, Any],
            state: Optional[Dict[str, Any]] = None, timeout: float = 120, args: Iterable[str] = ()) -> TapRun:
    result = subprocess.run(tap_command(workdir, config, catalog, state, args), cwd=workdir,
                            capture_output=True, text=True, timeout=timeout, env=TAP_ENV)
    return TapRun(result)


# --- Singer validity --------------------------------------------------------------------------
def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(())
    checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(RFC3339.match(v)))
    checker.checks("date")(lambda v: not isinstance(v, str) or bool(DATE.match(v)))
    return checker


def assert_valid_singer(run: TapRun) -> None:
    """SCHEMA before a stream's first RECORD, every RECORD valid (Draft 4, strict
    timestamps with a UTC offset), key properties present, last message a STATE."""
    assert run.messages, "no output"
    validators: Dict[str, Any] = {}
    keys: Dict[str, List[str]] = {}
    checker = _format_checker()
    for message in run.messages:
        kind = message["type"]
        assert kind in ("SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"), kind
        if kind == "SCHEMA":
            validators[message["stream"]] = jsonschema.Draft4Validator(message["schema"], format_checker=checker)
            keys[message["stream"]] = message["key_properties"]
        elif kind == "RECORD":
            stream = message["stream"]
            assert stream in validators, f"RECORD of {stream} before its SCHEMA"
            errors = list(validators[stream].iter_errors(message["record"]))
            assert not errors, f"{stream} {message['record'].get('gid')}: {errors[0].message} at {list(errors[0].path)}"
            for key in keys[stream]:
                assert message["record"].get(key) is not None, f"{stream} record without {key}"
    assert run.messages[-1]["type"] == "STATE"


# --- the oracle ---------------------------------------------------------------------------------
def _ts(value: Optional[str]) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def expected_records(export: Mapping[str, List[Dict[str, Any]]], since: Mapping[str, str],
                     forbidden_projects: Set[str] = frozenset(), free_workspaces: Set[str] = frozenset(),
                     ) -> Dict[str, Dict[str, Dict[str, Any]]]:
    """What a sync must emit, per stream and gid, computed from the fake's export.
    `since` maps incremental streams to their lower bound (start_date or bookmark)."""
    def after(stream: str, record: Dict[str, Any], key: str) -> bool:
        return stream not in since or _ts(record.get(key)) >= _ts(since[stream])

    tasks = {t["gid"]: t for t in export["tasks"]}
    children: Dict[str, List[str]] = defaultdict(list)
    for task in tasks.values():
        if task.get("parent"):
            children[task["parent"]["gid"]].append(task["gid"])
    def reachable(task: Dict[str, Any]) -> bool:
        """A top-level task the tap can reach: through a readable project; in no project,
        through search (premium) or, without search, through its assignee's tasks."""
        projects = task.get("projects") or []
        if projects:
            return any(p["gid"] not in forbidden_projects for p in projects)
        return task["workspace"]["gid"] not in free_workspaces or task.get("assignee") is not None

    top = {g for g, t in tasks.items() if not t.get("parent") and reachable(t)}
    # without search, a user's tasks include assigned subtasks, whatever their parent
    assigned = {g for g, t in tasks.items() if t.get("parent") and t["workspace"]["gid"] in free_workspaces
                and t.get("assignee") is not None}
    below: Set[str] = set(assigned)
    frontier = list(top | assigned)
    while frontier:
        gid = frontier.pop()
        for child in children[gid]:
            if child not in below:
                below.add(child)
                frontier.append(child)
    out = {
        "workspaces": export["workspaces"],
        "users": export["users"],
        "teams": export["teams"],
        "projects": [p for p in export["projects"] if after("projects", p, "modified_at")],
        "sections": [s for s in export["sections"] if s["project"]["gid"] not in forbidden_projects],
        "tasks": [tasks[g] for g in top if after("tasks", tasks[g], "modified_at")],
        "subtasks": [tasks[g] for g in below if after("subtasks", tasks[g], "modified_at")],
        "stories": [s for s in export["stories"] if s["target"]["gid"] in top | below
                    and after("stories", s, "created_at")],
        "tags": [t for t in export["tags"] if after("tags", t, "created_at")],
        "portfolios": [p for p in export["portfolios"] if p["workspace"]["gid"] not in free_workspaces],
    }
    out.update(_more(export, out, top | below, after, forbidden_projects, free_workspaces))
    return {stream: {record_key(stream, r): r for r in records} for stream, records in out.items()}


def record_key(stream: str, record: Mapping[str, Any]) -> str:
    """A record's primary key as one string (task_custom_field_values has two columns)."""
    if stream == "task_custom_field_values":
        return f"{record['task_gid']}:{record['custom_field_gid']}"
    return record["gid"]


def value_rows(task: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """task_custom_field_values rows as the stream contract defines them, from a task's custom_fields."""
    return [dict(value, task_gid=task["gid"], custom_field_gid=value["gid"], modified_at=task["modified_at"])
            for value in task.get("custom_fields") or ()]


def _more(export: Mapping[str, Any], out: Mapping[str, List[Dict[str, Any]]], reached: Set[str], after: Any,
          forbidden_projects: Set[str], free_workspaces: Set[str]) -> Dict[str, List[Dict[str, Any]]]:
    """The nine child streams. Paid ones (custom fields, goals, portfolio memberships, time
    tracking, portfolios' status updates) only from workspaces not free; per-task ones only of
    the tasks and subtasks sent; per-project ones (attachments of projects too) only of readable
    projects."""
    tasks = {t["gid"]: t for t in export["tasks"]}
    workspace_of = {p["gid"]: p["workspace"]["gid"] for p in export["projects"] + export["portfolios"]}
    paid = {w["gid"] for w in export["workspaces"]} - set(free_workspaces)
    # custom field definitions carry no workspace: a field is the workspace's whose projects use it
    field_spaces: Dict[str, Set[str]] = defaultdict(set)
    for project in export["projects"]:
        for setting in project.get("custom_field_settings") or ():
            field_spaces[setting["custom_field"]["gid"]].add(project["workspace"]["gid"])
    readable = {p["gid"] for p in export["projects"]} - set(forbidden_projects)
    sent_tasks = [tasks[g] for g in reached if g in tasks]
    return {
        "custom_fields": [f for f in export["custom_fields"] if (field_spaces.get(f["gid"]) or paid) & paid],
        "task_custom_field_values": [row for task in sent_tasks for row in value_rows(task)
                                     if after("task_custom_field_values", row, "modified_at")],
        "attachments": [a for a in export["attachments"] if a["parent"]["gid"] in reached | readable
                        and after("attachments", a, "created_at")],
        "project_memberships": [m for m in export["project_memberships"] if m["parent"]["gid"] in readable],
        "team_memberships": export["team_memberships"],
        "portfolio_memberships": [m for m in export["portfolio_memberships"]
                                  if workspace_of.get(m["portfolio"]["gid"]) in paid],
        "status_updates": [u for u in export["status_updates"] if after("status_updates", u, "created_at")
                           and (u["parent"]["gid"] in readable or (u["parent"]["resource_type"] == "portfolio"
                                                                   and workspace_of.get(u["parent"]["gid"]) in paid))],
        "goals": [g for g in export["goals"] if g["workspace"]["gid"] in paid],
        "time_tracking_entries": [e for e in export["time_tracking_entries"] if e["task"]["gid"] in tasks
                                  and tasks[e["task"]["gid"]]["workspace"]["gid"] in paid
                                  and after("time_tracking_entries", e, "created_at")],
    }


def shape_like(schema: Mapping[str, Any], value: Any, top: bool = True) -> Any:
    """The server's full record cut down to the columns (and nested fields) of a schema."""
    if value is None:
        return None
    if isinstance(value, list):
        return [shape_like(schema.get("items", {}), v, False) for v in value]
    props = schema.get("properties")
    if not props or not isinstance(value, dict):
        return value
    if top:
        value = dict(value, is_rendered_as_seperator=value.get("is_rendered_as_separator")) \
            if "is_rendered_as_seperator" in props else value
        return {k: shape_like(p, value.get(k), False) for k, p in props.items()}
    return {k: shape_like(props[k], v, False) for k, v in value.items() if k in props}


def expected_row(stream: str, record: Mapping[str, Any]) -> Any:
    """The row a sync must send for the server's full record: cut to the stream's schema, and
    null in the columns Asana's contract does not define for the resource (never asked for)."""
    row = shape_like(schemas()[stream], record)
    for column in STREAMS[stream].unreturned:
        row[column] = None
    return row


@functools.lru_cache(maxsize=None)
def schemas() -> Dict[str, Dict[str, Any]]:
    return {e["stream"]: e["schema"] for e in discover()["streams"]}


def a_day_later(state: Dict[str, Any]) -> Dict[str, Any]:
    """The state as a run 25 hours later finds it: every project's last full read and every plan
    check a day old (the fake's clock could jump instead, but the tap rightly distrusts a server
    clock that far from this machine's)."""
    state = json.loads(json.dumps(state))

    def back(value: str) -> str:
        return format_asana_time(parse_asana_time(value) - dt.timedelta(hours=25))
    for entry in state.get("projects", {}).values():
        entry["read_in_full"] = back(entry["read_in_full"])
    for plan in state.get("plans", {}).values():
        for key in ("checked", "events_checked"):
            if key in plan:
                plan[key] = back(plan[key])
    return state
