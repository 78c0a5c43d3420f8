"""The counting half of `make bench`: requests, not seconds, so it runs without latency or rate
limit (a request count does not depend on either).

1. Per plan (free, premium, Enterprise+ read with a service account) and dataset: a full sync
   with every stream, a run right after with nothing changed, and a quiet day (the same state
   25 hours later, so every project's safety read is due): requests per route against the
   floor (below), records per stream.
2. Premium and free full syncs against the tap before the premium work (commit 77803e8).
3. An Enterprise+ organization's no-change run with 10 and with 1,000 projects.
4. A first sync stopped by SIGTERM at a share of its requests, then resumed: the requests done
   twice, as a share of a full sync.

**The floor** of a run is the requests Asana's API cannot spare for what the run sends. Per
route: `/tasks/{gid}/stories` one per task and subtask sent; `/attachments` one per project
plus, on premium (search names the tasks with attachments), one per task that has some, or,
on free, one per task and subtask; `/tasks/{gid}/subtasks` one per task with subtasks on free,
none on premium (the workspace search finds subtasks); `/tasks` listings of projects one page
per 100 tasks of each project on free, none on a premium first run (the search gives each
project's tasks); `/projects/{gid}/sections` and `/memberships` one per project. Every other
route (workspace-level listings read whole, searches, events) counts as its own floor: the
run's count. A no-change run's floor is its workspace-level listings plus one events request
per project (one per workspace on Enterprise+), one search per premium workspace, and the status
updates of each portfolio that has one (portfolios have no events); a quiet day's adds each
project's safety read: its task listing, sections, memberships, own attachments and status
updates, and on free every parent's subtasks.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fake_asana import FakeAsana  # noqa: E402
from tests.tapkit import a_day_later  # noqa: E402

#: The tap before the premium and Enterprise+ work (git commit 77803e8), every stream, seed 1,
#: no latency: requests of a full sync, measured with this script's own runner.
BEFORE = {"commit": "77803e8",
          "premium": {"demo": 974, "medium": 6851, "large": 18393},
          "free": {"demo": 979, "medium": 6835, "large": 18346}}
SEED = 1
DAYS_AGO = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
FAST = {"requests_per_minute": 100000, "max_workers": 12}
#: Routes whose floor the model above gives; every other route is its own floor.
MODELLED = ("GET /tasks/{gid}/stories", "GET /attachments", "GET /tasks/{gid}/subtasks", "GET /tasks",
            "GET /projects/{gid}/sections", "GET /memberships")
#: Routes read per project (their no-change floor is 0 but for events)
PER_PROJECT = MODELLED + ("GET /events", "GET /status_updates", "GET /tasks/{gid}")


def catalog_all() -> Dict[str, Any]:
    from tap_asana.discover import discover

    catalog = discover()
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = True
    return catalog


def config_of(fake: FakeAsana, plan: str, **extra: Any) -> Dict[str, Any]:
    token = fake.options.service_account_token if plan == "enterprise" else fake.pat
    return {"access_token": token, "api_url": fake.api_url, "start_date": "2015-01-01T00:00:00Z", **FAST, **extra}


def run(fake: FakeAsana, workdir: Path, config: Mapping[str, Any], state: Optional[Mapping[str, Any]] = None,
        stop_after: int = 0, latency_ms: float = 0) -> Dict[str, Any]:
    """One run of the tap as a child process: requests (by route), records by stream, the last
    STATE. With `stop_after`, SIGTERM once the fake has answered that many of its requests."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog_all()))
    cmd = [sys.executable, "-m", "tap_asana", "-c", "config.json", "--catalog", "catalog.json"]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        cmd += ["--state", "state.json"]
    fake.reset_stats()
    fake.options.latency_ms = latency_ms
    with open(workdir / "out.jsonl", "w+") as out, open(workdir / "err.log", "w+") as err:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=err, env={**os.environ, "PYTHONPATH": str(ROOT)})
        while stop_after and proc.poll() is None and fake.stats()["total"] < stop_after:
            time.sleep(0.005)
        if stop_after:
            proc.send_signal(signal.SIGTERM)
        proc.wait()
        out.seek(0)
        messages = [json.loads(line) for line in out]
        err.seek(0)
        log = err.read()
    fake.options.latency_ms = 0
    if proc.returncode not in ((0, 143) if stop_after else (0,)):
        raise SystemExit(f"tap failed ({proc.returncode}): {log[-2000:]}")
    stats = fake.stats()
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return {"requests": stats["total"], "contract_violations": fake.violations()["total"], "by_route": {r: sum(c.values()) for r, c in stats["by_route"].items()},
            "records": dict(Counter(m["stream"] for m in messages if m["type"] == "RECORD")),
            "sent": {s: [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == s]
                     for s in ("tasks", "subtasks", "attachments", "projects", "portfolios")},
            "state": states[-1] if states else None,
            # the users' tasks in no project (free), as the summary counts them: the fake's request
            # log keeps only the last 10,000 lines
            "assignee_listings": _pages(log, "Read users' tasks in no project"),
            "mode": [line[5:] for line in log.splitlines() if line.startswith("INFO Workspace ") and "changes found by" in line]}


def _pages(log: str, what: str) -> int:
    """The pages the run summary says it read for `what`."""
    found = re.search(re.escape(what) + r": (\d+) pages?", log)
    return int(found.group(1)) if found else 0


def full_floor(plan: str, result: Mapping[str, Any], export: Mapping[str, Any]) -> Dict[str, int]:
    """The floor of each modelled route of a full sync, from what it sent (see the module's doc)."""
    sent = result["sent"]
    tasks = sent["tasks"] + sent["subtasks"]
    projects = {p["gid"] for p in sent["projects"]}
    premium = plan != "free"
    with_files = {a["parent"]["gid"] for a in sent["attachments"] if a.get("parent")} - projects
    parents = {t["parent"]["gid"] for t in sent["subtasks"] if t.get("parent")}
    stories = Counter(s["target"]["gid"] for s in export["stories"] if s.get("target"))
    return {
        "GET /tasks/{gid}/stories": sum(max(1, math.ceil(stories[t["gid"]] / 100)) for t in tasks),
        "GET /attachments": len(projects) + (len(with_files) if premium else len(tasks)),
        "GET /tasks/{gid}/subtasks": 0 if premium else len(parents),
        "GET /tasks": 0 if premium else project_pages(sent) + result["assignee_listings"],
        "GET /projects/{gid}/sections": len(projects),
        "GET /memberships": len(projects),
    }


def project_pages(sent: Mapping[str, List[Dict[str, Any]]]) -> int:
    """Listing each project's tasks: a page per 100 of them, at least one."""
    projects = {p["gid"] for p in sent["projects"]}
    per_project = Counter(p["gid"] for t in sent["tasks"] for p in t.get("projects") or [] if p["gid"] in projects)
    return sum(max(1, math.ceil(per_project[p] / 100)) for p in projects)


def quiet_floor(plan: str, result: Mapping[str, Any], full: Mapping[str, Any], export: Mapping[str, Any],
                safety_read: bool) -> Dict[str, int]:
    """A run with nothing changed: no per-project request but events (none in an Enterprise+
    organization, whose events are one stream), and on free the users' tasks in no project; on a
    quiet day, each project's safety read: its task listing, sections, memberships and own
    attachments, and on free every parent's subtasks."""
    organizations = {w["gid"] for w in export["workspaces"] if w["is_organization"]}
    projects = full["sent"]["projects"]
    floor = {route: 0 for route in PER_PROJECT if route in result["by_route"]}
    floor["GET /events"] = sum(1 for p in projects if plan != "enterprise" or p["workspace"]["gid"] not in organizations)
    floor["GET /tasks"] = result["assignee_listings"]
    # portfolios have no events: each one with a status update is asked for them every run
    floor["GET /status_updates"] = sum(1 for p in full["sent"]["portfolios"] if p.get("current_status_update"))
    if safety_read:
        floor["GET /tasks"] += project_pages(full["sent"])
        for route in ("GET /projects/{gid}/sections", "GET /memberships", "GET /attachments"):
            floor[route] = len(projects)
        floor["GET /status_updates"] += sum(1 for p in projects if p.get("current_status_update"))
        floor["GET /tasks/{gid}/subtasks"] = full["floor_by_route"]["GET /tasks/{gid}/subtasks"]
    return floor


def against_floor(result: Dict[str, Any], modelled: Mapping[str, int]) -> None:
    routes = result["by_route"]
    result["floor_by_route"] = {r: modelled.get(r, n) for r, n in routes.items()}
    result["floor_by_route"].update({r: n for r, n in modelled.items() if r not in routes})
    result["floor"] = sum(result["floor_by_route"].values())
    result["above_floor"] = {r: routes.get(r, 0) - f for r, f in result["floor_by_route"].items()
                             if routes.get(r, 0) != f}


def plan_runs(size: str, plan: str) -> List[Dict[str, Any]]:
    """Full, no change and a quiet day on one dataset and plan."""
    rows = []
    # Data as of three days ago: a quiet day 25 h later finds nothing modified since the last read.
    with FakeAsana(preset=size, seed=SEED, plan=plan, now=DAYS_AGO, strict_contract=True) as fake, \
            tempfile.TemporaryDirectory() as tmp:
        export = fake.export()
        config = config_of(fake, plan)
        full = run(fake, Path(tmp) / "full", config)
        against_floor(full, full_floor(plan, full, export))
        projects = len(full["sent"]["projects"])
        quiet = run(fake, Path(tmp) / "quiet", config, full["state"])
        against_floor(quiet, quiet_floor(plan, quiet, full, export, False))
        day = run(fake, Path(tmp) / "day", config, a_day_later(quiet["state"]))
        against_floor(day, quiet_floor(plan, day, full, export, True))
        for name, result in (("full", full), ("no change", quiet), ("quiet day", day)):
            result.pop("sent")
            result.pop("state")
            result.update(dataset=size, plan=plan, run=name, projects=projects)
            rows.append(result)
        print(f"  {size:<7} {plan:<10} full {full['requests']:>6} (floor {full['floor']:>6})  no change "
              f"{quiet['requests']:>4} (floor {quiet['floor']:>4})  quiet day {day['requests']:>5} (floor "
              f"{day['floor']:>5}), tasks+subtasks sent {day['records'].get('tasks', 0) + day['records'].get('subtasks', 0)}",
              flush=True)
    return rows


def enterprise_scale(projects: int) -> Dict[str, Any]:
    """The organization alone, read with a service account, after a full sync: a no-change run."""
    with FakeAsana(preset="demo", seed=SEED, plan="enterprise", projects=projects * 4 // 3 + 1, tasks_per_project=2,
                   stories_per_task=1, subtask_fraction=0.1, deep_chains=0) as fake, \
            tempfile.TemporaryDirectory() as tmp:
        export = fake.export()
        org = next(w["gid"] for w in export["workspaces"] if w["is_organization"])
        in_org = sum(1 for p in export["projects"] if p["workspace"]["gid"] == org)
        config = config_of(fake, "enterprise", workspace_gids=[org])
        full = run(fake, Path(tmp) / "full", config)
        quiet = run(fake, Path(tmp) / "quiet", config, full["state"])
        per_project = {r: n for r, n in quiet["by_route"].items() if r in PER_PROJECT}
        row = {"projects": in_org, "full": full["requests"], "no_change": quiet["requests"],
               "by_route": quiet["by_route"], "per_project_requests": per_project,
               "workspace_requests": quiet["by_route"].get("GET /workspaces/{gid}/events", 0)
               + quiet["by_route"].get("GET /workspaces/{gid}/tasks/search", 0)}
        print(f"  Enterprise+ organization, {in_org} projects: no-change run {quiet['requests']} requests "
              f"({row['workspace_requests']} for the workspace's events and search)", flush=True)
        return row


def resume_waste(size: str, plan: str, shares: List[float], full_requests: int) -> List[Dict[str, Any]]:
    rows = []
    for share in shares:
        with FakeAsana(preset=size, seed=SEED, plan=plan) as fake, tempfile.TemporaryDirectory() as tmp:
            config = config_of(fake, plan)
            part = run(fake, Path(tmp) / "part", config, stop_after=int(full_requests * share), latency_ms=5)
            rest = run(fake, Path(tmp) / "rest", config, part["state"], latency_ms=5)
            waste = part["requests"] + rest["requests"] - full_requests
            rows.append({"dataset": size, "plan": plan, "stopped_at": share, "full": full_requests,
                         "before_stop": part["requests"], "resume": rest["requests"], "waste": waste,
                         "waste_share": round(waste / full_requests, 3)})
            print(f"  {size:<7} {plan:<8} stopped at {share:.0%}: {part['requests']} + {rest['requests']} requests "
                  f"for a full sync's {full_requests}: {waste / full_requests:.1%} done twice", flush=True)
    return rows


def measure(sizes: List[str], plans: List[str], scale: List[int], resume_sizes: List[str],
            shares: List[float]) -> Dict[str, Any]:
    print("Requests against the floor (no latency, no rate limit):", flush=True)
    rows = [r for size in sizes for plan in plans for r in plan_runs(size, plan)]
    print("Enterprise+ no-change runs:", flush=True)
    scaled = [enterprise_scale(n) for n in scale]
    print("A first sync stopped, then resumed:", flush=True)
    full = {(r["dataset"], r["plan"]): r["requests"] for r in rows if r["run"] == "full"}
    resumed = [w for size in resume_sizes for plan in ("free", "premium") if (size, plan) in full
               for w in resume_waste(size, plan, shares, full[(size, plan)])]
    return {"plans": rows, "enterprise_scale": scaled, "resume": resumed, "before": BEFORE}


def markdown(counted: Mapping[str, Any]) -> List[str]:
    rows, before = counted["plans"], counted["before"]
    lines = ["", "### Requests against the floor", "",
             f"Every stream selected, seed {SEED}, no latency (request counts do not depend on it). Floor: see "
             "`bench/floor.py`. \"before\" is the tap at commit " + before["commit"] + ".", "",
             "| dataset | plan | run | requests | floor | before | ratio to before | records | tasks+subtasks sent | "
             "routes above the floor |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        was = before.get(r["plan"], {}).get(r["dataset"]) if r["run"] == "full" else None
        ratio = f"{r['requests'] / was:.2f}" if was else "–"
        above = ", ".join(f"`{k.replace('GET ', '')}` {'+' if v > 0 else ''}{v}" for k, v in sorted(r["above_floor"].items()))
        sent = r["records"].get("tasks", 0) + r["records"].get("subtasks", 0)
        lines.append(f"| {r['dataset']} ({r['projects']} projects) | {r['plan']} | {r['run']} | {r['requests']} | "
                     f"{r['floor']} | {was or '–'} | {ratio} | "
                     f"{sum(r['records'].values())} | {sent} | {above or 'none'} |")
    lines += ["", "How each workspace was read (the run summary's words):", ""]
    seen = set()
    for r in rows:
        for mode in r["mode"]:
            key = (r["plan"], mode.split(": ", 1)[1])
            if key not in seen:
                seen.add(key)
                lines.append(f"- {r['plan']}: {key[1]}")
    lines += ["", "Requests by route (full / no change / quiet day):", "",
              "| dataset | plan | " + " | ".join(["route", "full", "floor", "no change", "quiet day"]) + " |",
              "|---|---|---|---|---|---|---|"]
    for size in dict.fromkeys(r["dataset"] for r in rows):
        for plan in dict.fromkeys(r["plan"] for r in rows):
            three = {r["run"]: r for r in rows if r["dataset"] == size and r["plan"] == plan}
            if len(three) < 3:
                continue
            routes = sorted(set().union(*(r["by_route"] for r in three.values())))
            for route in routes:
                lines.append(f"| {size} | {plan} | `{route.replace('GET ', '')}` | {three['full']['by_route'].get(route, 0)} | "
                             f"{three['full']['floor_by_route'].get(route, 0)} | {three['no change']['by_route'].get(route, 0)} | "
                             f"{three['quiet day']['by_route'].get(route, 0)} |")
    if counted["enterprise_scale"]:
        lines += ["", "### Enterprise+: a no-change run does not grow with projects", "",
                  "The organization alone (`workspace_gids`), read with a service account, after a full sync.", "",
                  "| projects | full sync | no-change run | of which the workspace's events and search | per-project requests |",
                  "|---|---|---|---|---|"]
        for r in counted["enterprise_scale"]:
            lines.append(f"| {r['projects']} | {r['full']} | {r['no_change']} | {r['workspace_requests']} | "
                         f"{sum(r['per_project_requests'].values())} |")
    if counted["resume"]:
        lines += ["", "### A first sync stopped, then resumed", "",
                  "SIGTERM once the fake has answered a share of a full sync's requests (5 ms latency), then a run "
                  "from the last STATE: requests done twice, as a share of a full sync (target ≤ 10%).", "",
                  "| dataset | plan | stopped at | requests before the stop | resume | full sync | done twice |",
                  "|---|---|---|---|---|---|---|"]
        for r in counted["resume"]:
            lines.append(f"| {r['dataset']} | {r['plan']} | {r['stopped_at']:.0%} | {r['before_stop']} | {r['resume']} | "
                         f"{r['full']} | {r['waste_share']:.1%} |")
    return lines


if __name__ == "__main__":  # the counting half alone: python bench/floor.py [sizes] [projects,...]
    chosen = sys.argv[1].split(",") if len(sys.argv) > 1 else ["demo"]
    scale = [int(n) for n in sys.argv[2].split(",")] if len(sys.argv) > 2 else [10]
    counted = measure(chosen, ["free", "premium", "enterprise"], scale, chosen[:1], [0.3])
    print("\n".join(markdown(counted)))
