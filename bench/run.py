"""`make bench`: the real tap-asana against the fake Asana under Asana's limits
(1500 requests/min, 50 in flight, ~150 ms latency).

1. For each dataset (both workspaces): a full sync, a no-change incremental and a
   1%-changed incremental.
2. Change capture, per dataset and plan (the organization workspace alone, premium or
   free): a no-change run, then a fixed set of changes (changes.py) and which of them came
   through, with and without Asana bubbling subtask changes up to the project's events, and
   the run a simulated day later.
3. A CPU-only run (no latency, no rate limit) with a profile.

Prints the tables, saves bench/results/<time>.json and rewrites the tables in bench/README.md.

    .venv/bin/python bench/run.py [--sizes demo,medium,large] [--changes-sizes <default: --sizes>]
                                  [--plans premium,free] [--latency-ms 150] [--jitter-ms 50] [--quick]
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fake_asana import FakeAsana  # noqa: E402
from tap_asana.discover import discover  # noqa: E402

import floor  # noqa: E402  (bench/floor.py, beside this file)
from changes import KINDS, ChangeSet  # noqa: E402  (bench/changes.py, beside this file)

RESULTS = ROOT / "bench" / "results"
TABLE_START, TABLE_END = "<!-- results:start -->", "<!-- results:end -->"


def catalog_all() -> Dict[str, Any]:
    catalog = discover()
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = True
    return catalog


def run_tap(workdir: Path, config: Dict[str, Any], catalog: Dict[str, Any], state: Dict[str, Any] = None,
            profile: Path = None, keep: bool = False) -> Dict[str, Any]:
    """Run the tap as a child process; measure wall time, CPU time and peak RSS of that child.
    With `keep`, the records it sent are returned too (`sent`: stream -> records)."""
    (workdir / "config.json").write_text(json.dumps(config))
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    cmd = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else []) + \
        ["-m", "tap_asana", "-c", "config.json", "--catalog", "catalog.json"]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(state))
        cmd += ["--state", "state.json"]
    out_path = workdir / "out.jsonl"
    started = time.monotonic()
    with open(out_path, "w") as out, open(workdir / "err.log", "w") as err:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=err, env={**os.environ, "PYTHONPATH": str(ROOT)})
        peak_kb = 0
        while True:  # rusage's maxrss would count the fork of this (large) process before exec
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            if _exited(proc.pid):
                break
            time.sleep(0.05)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"tap failed: {(workdir / 'err.log').read_text()[-2000:]}")
    records: Dict[str, int] = {}
    sent: Dict[str, List[Dict[str, Any]]] = {}
    last_state = None
    with open(out_path) as handle:
        for line in handle:
            if line.startswith('{"type":"RECORD"'):
                message = json.loads(line)
                stream = message["stream"]
                records[stream] = records.get(stream, 0) + 1
                if keep:
                    sent.setdefault(stream, []).append(message["record"])
            elif line.startswith('{"type":"STATE"'):
                last_state = line
    result = {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
              "peak_rss_mb": round(peak_kb / 1024, 1), "records": records,
              "state": json.loads(last_state)["value"]}
    if keep:
        result["sent"] = sent
    return result


def _vm_hwm_kb(pid: int) -> int:
    """The child's own high-water RSS since exec (VmHWM), 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _exited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def lower_bound(requests: int, rpm: int, latency_s: float, in_flight: int) -> float:
    return max(requests / (rpm / 60.0), requests * latency_s / in_flight)


def scenario(fake: FakeAsana, name: str, workdir: Path, config: Dict[str, Any], state=None,
             args: argparse.Namespace = None, keep: bool = False) -> Dict[str, Any]:
    fake.reset_stats()
    result = run_tap(workdir, config, catalog_all(), state, keep=keep)
    stats = fake.stats()
    requests = stats["total"]
    mean_latency = (args.latency_ms + args.jitter_ms / 2) / 1000.0
    bound = lower_bound(requests, args.rpm, mean_latency, 50)
    n = sum(result["records"].values())
    result.update(scenario=name, requests=requests,
                  requests_by_route={r: sum(c.values()) for r, c in stats["by_route"].items()},
                  status_429=sum(c.get("429", 0) for c in stats["by_route"].values()),
                  lower_bound_s=round(bound, 2), ratio=round(result["wall_s"] / bound, 2) if bound else None,
                  records_per_s=round(n / result["wall_s"], 1),
                  cpu_s_per_10k_records=round(result["cpu_s"] / n * 10000, 2) if n else None)
    print(f"  {name:<36} wall {result['wall_s']:>7.1f}s  requests {requests:>6}  bound {bound:>7.1f}s "
          f"ratio {result['ratio'] or 0:>5.2f}  records {n:>7}  rss {result['peak_rss_mb']:>6.1f}MB "
          f"429s {result['status_429']}", flush=True)
    return result


def dataset(args: argparse.Namespace, size: str) -> List[Dict[str, Any]]:
    out = []
    with FakeAsana(preset=size, seed=42, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, rpm=args.rpm,
                   max_concurrent=50) as fake, tempfile.TemporaryDirectory() as tmp:
        export = fake.export()
        tasks = [t for t in export["tasks"] if not t.get("parent")]
        subtasks = [t for t in export["tasks"] if t.get("parent")]
        print(f"{size}: {len(export['projects'])} projects, {len(tasks)} tasks, {len(subtasks)} subtasks, "
              f"{len(export['stories'])} stories", flush=True)
        config = {"access_token": fake.pat, "api_url": fake.api_url, "start_date": "2015-01-01T00:00:00Z",
                  "requests_per_minute": args.rpm, "max_workers": args.workers}
        full = scenario(fake, "full", Path(tmp), config, args=args)
        none = scenario(fake, "incremental, no change", Path(tmp), config, full["state"], args=args)
        fake.mutate("modify_tasks", count=max(1, math.ceil(len(tasks) / 100)))
        fake.mutate("modify_tasks", count=max(1, math.ceil(len(subtasks) / 100)), subtasks=True)
        fake.mutate("add_stories", count=max(1, math.ceil(len(tasks) / 100)))
        some = scenario(fake, "incremental, 1% changed", Path(tmp), config, none["state"], args=args)
        workspaces = len(export["workspaces"])
        none["target_requests"] = len(export["projects"]) + 10 * workspaces + 10
        for result in (full, none, some):
            result.pop("state")
            result.update(dataset=size, projects=len(export["projects"]), tasks=len(tasks),
                          subtasks=len(subtasks), stories=len(export["stories"]))
            out.append(result)
    return out


def set_limits(fake: FakeAsana, args: argparse.Namespace, on: bool) -> None:
    """The fake reads its options on every request: the full sync that only sets up the
    state of a change-capture run goes without latency or rate limit, to save time."""
    fake.options.latency_ms = args.latency_ms if on else 0
    fake.options.jitter_ms = args.jitter_ms if on else 0
    fake.options.rpm = args.rpm if on else 0


def changes(args: argparse.Namespace, size: str, plan: str) -> List[Dict[str, Any]]:
    """The organization workspace alone, premium (the fake's default) or free: a no-change
    run, then the fixed change set (changes.py) and which changes came through, Asana
    bubbling subtask changes up to the project's events; then the same with a fake that does
    not (a fresh one, full sync included), and the run a simulated day (25 h) later, whose
    daily full read brings what the earlier run missed."""
    rows: List[Dict[str, Any]] = []
    for bubble in (True, False):
        with FakeAsana(preset=size, seed=42, plan=plan, bubble_subtask_changes=bubble,
                       max_concurrent=50) as fake, tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            export = fake.export()
            org = next(w["gid"] for w in export["workspaces"] if w["is_organization"])
            projects = sum(1 for p in export["projects"] if p["workspace"]["gid"] == org)
            config = {**floor.config_of(fake, plan), "requests_per_minute": args.rpm, "max_workers": args.workers,
                      "workspace_gids": [org]}
            set_limits(fake, args, on=False)
            state = run_tap(workdir, dict(config, requests_per_minute=100000), catalog_all())["state"]
            set_limits(fake, args, on=True)
            variant = "bubbling" if bubble else "no bubbling"
            print(f"{size}, {plan} organization ({projects} projects), {variant}:", flush=True)
            meta = {"dataset": size, "plan": plan, "bubbling": bubble, "projects": projects}
            if bubble:
                none = scenario(fake, f"{plan}: no change", workdir, config, state, args=args)
                state = none.pop("state")
                per_project = 0 if plan == "enterprise" else projects  # Enterprise+: one event stream
                none.update(meta, run="no change", target_requests=per_project + 10 + 10)
                rows.append(none)
            change_set = ChangeSet(export, org, seed=42)
            change_set.apply(fake)
            after = scenario(fake, f"{plan}: changes, {variant}", workdir, config, state, args=args, keep=True)
            sent = [after.pop("sent")]
            state = after.pop("state")
            after.update(meta, run=f"changes, {variant}", came_through=change_set.came_through(sent),
                         missing=change_set.missing(sent))
            rows.append(after)
            _report(after)
            if not bubble:
                fake.mutate("advance_clock", hours=25)
                day = scenario(fake, f"{plan}: a day later, {variant}", workdir, config, state, args=args, keep=True)
                sent.append(day.pop("sent"))
                day.pop("state")
                day.update(meta, run=f"25 h later, {variant}", came_through=change_set.came_through(sent),
                           missing=change_set.missing(sent))
                rows.append(day)
                _report(day)
    return rows


def _report(row: Dict[str, Any]) -> None:
    print("    came through: " + ", ".join(f"{k} {row['came_through'][k]}" for k, _ in KINDS), flush=True)
    for kind, gids in row["missing"].items():
        print(f"    missing {kind}: {' '.join(gids)}", flush=True)


def cpu_only(args: argparse.Namespace, size: str) -> Dict[str, Any]:
    """No latency, no rate limit: what the tap itself costs per record, and where."""
    with FakeAsana(preset=size, seed=42) as fake, tempfile.TemporaryDirectory() as tmp:
        config = {"access_token": fake.pat, "api_url": fake.api_url, "start_date": "2015-01-01T00:00:00Z",
                  "requests_per_minute": 100000, "max_workers": args.workers}
        result: Dict[str, Any] = {"dataset": size, "scenario": "cpu only"}
        for streams in (["tasks"], ["stories"]):
            catalog = catalog_all()
            for entry in catalog["streams"]:
                entry["metadata"][0]["metadata"]["selected"] = entry["stream"] in streams
            run = run_tap(Path(tmp), config, catalog)
            n = run["records"].get(streams[0], 0)
            result[f"{streams[0]}_records"] = n
            result[f"{streams[0]}_cpu_s"] = run["cpu_s"]
            result[f"{streams[0]}_us_per_record"] = round(run["cpu_s"] / n * 1e6, 1) if n else None
        profile = Path(tmp) / "profile.out"
        run = run_tap(Path(tmp), config, catalog_all(), profile=profile)
        text = io.StringIO()
        pstats.Stats(str(profile), stream=text).sort_stats("tottime").print_stats(15)
        result["profile_top"] = [l for l in text.getvalue().splitlines() if l.strip()][-16:]
        result["all_cpu_s"] = run["cpu_s"]
        print(f"  cpu only ({size}): tasks {result['tasks_us_per_record']} us/record, "
              f"stories {result['stories_us_per_record']} us/record")
        return result


def machine() -> str:
    cpu = "unknown cpu"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def changes_markdown(rows: List[Dict[str, Any]]) -> List[str]:
    if not rows:
        return []
    lines = ["", "Change capture: the organization workspace alone (`workspace_gids`) on the fake's plan `free`, "
                 "`premium` or `enterprise` (read with its service-account token: workspace events), every stream "
                 "selected, after a full sync. The fixed "
                 "change set of `bench/changes.py` is made once per variant; a change came through when the "
                 "tap sent the record that shows it (`k/n`: k of the n records it needs). \"no bubbling\" is a "
                 "fresh fake with `bubble_subtask_changes=False`; its \"25 h later\" row counts what came "
                 "through in either of its two runs.", "",
             "| dataset | plan | run | requests | wall s | records | " + " | ".join(h for _, h in KINDS) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(KINDS)]
    for r in rows:
        came = r.get("came_through")
        cells = [came[k] for k, _ in KINDS] if came else ["–"] * len(KINDS)
        requests = f"{r['requests']}" + (f" (target ≤ {r['target_requests']})" if "target_requests" in r else "")
        lines.append(f"| {r['dataset']} ({r['projects']} projects) | {r['plan']} | {r['run']} | {requests} "
                     f"| {r['wall_s']} | {sum(r['records'].values())} | " + " | ".join(cells) + " |")
    lines += ["", "Requests by route of those runs:", "", "| dataset | plan | run | requests by route |", "|---|---|---|---|"]
    for r in rows:
        routes = sorted(r["requests_by_route"].items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append(f"| {r['dataset']} | {r['plan']} | {r['run']} | "
                     + ", ".join(f"`{route.replace('GET ', '')}` {n}" for route, n in routes) + " |")
    missed = [(r, kind, gids) for r in rows for kind, gids in r.get("missing", {}).items()]
    if missed:
        lines += ["", "Not sent (stream:gid):", ""]
        lines += [f"- {r['dataset']}, {r['plan']}, {r['run']}: {kind}: {' '.join(gids)}" for r, kind, gids in missed]
    return lines


def routes_markdown(results: List[Dict[str, Any]]) -> List[str]:
    """Requests by route of the full and no-change scenarios: what each stream costs."""
    runs = [r for r in results if r["scenario"] in ("full", "incremental, no change")]
    if not runs:
        return []
    heads = [f"{r['dataset']} {'full' if r['scenario'] == 'full' else 'no change'}" for r in runs]
    routes = sorted({route for r in runs for route in r["requests_by_route"]})
    lines = ["", "Requests by route of the full and no-change runs above (every stream selected; the routes "
                 "of the streams beyond the hosted integration are `/workspaces/{gid}/custom_fields`, "
                 "`/attachments`, `/memberships`, `/team_memberships`, `/portfolio_memberships`, "
                 "`/status_updates`, `/goals`, `/time_tracking_entries`):", "",
             "| route | " + " | ".join(heads) + " |", "|---|" + "---|" * len(runs)]
    for route in routes:
        lines.append(f"| `{route.replace('GET ', '')}` | "
                     + " | ".join(str(r["requests_by_route"].get(route, 0)) for r in runs) + " |")
    return lines


def markdown(results: List[Dict[str, Any]], captured: List[Dict[str, Any]], cpu: Dict[str, Any],
             args: argparse.Namespace) -> str:
    lines = [f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; fake Asana with "
             f"{args.rpm} requests/min, 50 in flight, latency {args.latency_ms}±{args.jitter_ms / 2:g} ms; "
             f"`max_workers` {args.workers}.", "",
             "| dataset | scenario | wall s | lower bound s | ratio | requests | 429s | records | records/s | peak RSS MB | CPU s / 10k records |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['dataset']} ({r['tasks']} tasks, {r['subtasks']} subtasks, {r['stories']} stories) "
                     f"| {r['scenario']} | {r['wall_s']} | {r['lower_bound_s']} | {r['ratio']} | {r['requests']}"
                     + (f" (target ≤ {r['target_requests']})" if 'target_requests' in r else "")
                     + f" | {r['status_429']} | {sum(r['records'].values())} | {r['records_per_s']} | {r['peak_rss_mb']}"
                     f" | {r['cpu_s_per_10k_records']} |")
    lines += routes_markdown(results)
    lines += changes_markdown(captured)
    if cpu:
        lines += ["", f"CPU only ({cpu['dataset']}, no latency, no rate limit): tasks "
                      f"{cpu['tasks_us_per_record']} µs/record, stories {cpu['stories_us_per_record']} µs/record "
                      "(whole tap process CPU, start-up included, divided by records).", "",
                  "Profile of a full CPU-only sync, top functions by own time:", "", "```"] + cpu["profile_top"] + ["```"]
    return "\n".join(lines)


def _list(text: str) -> List[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="demo,medium,large")
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--jitter-ms", type=int, default=50)
    parser.add_argument("--rpm", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--cpu-size", default="medium")
    parser.add_argument("--changes-sizes", default=None,
                        help="datasets of the change-capture runs (default: --sizes; empty: none)")
    parser.add_argument("--plans", default="free,premium,enterprise", help="plans of the change-capture runs")
    parser.add_argument("--count-sizes", default=None, help="datasets of the request counts per plan (default: --sizes)")
    parser.add_argument("--scale", default="10,1000", help="projects of the Enterprise+ no-change runs")
    parser.add_argument("--resume-sizes", default="demo,medium", help="datasets of the stopped-and-resumed runs")
    parser.add_argument("--stops", default="0.1,0.3,0.5,0.7", help="shares of a full sync at which to stop")
    parser.add_argument("--quick", action="store_true",
                        help="demo only: --sizes demo --changes-sizes demo --cpu-size ''")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.changes_sizes, args.cpu_size = "demo", "demo", ""
        args.scale, args.resume_sizes, args.stops = "10", "demo", "0.3"
    if args.changes_sizes is None:
        args.changes_sizes = args.sizes
    if args.count_sizes is None:
        args.count_sizes = args.sizes
    counted = floor.measure(_list(args.count_sizes), ["free", "premium", "enterprise"],
                            [int(n) for n in _list(args.scale)], _list(args.resume_sizes),
                            [float(x) for x in _list(args.stops)])
    results = [r for size in _list(args.sizes) for r in dataset(args, size)]
    captured = [r for size in _list(args.changes_sizes) for plan in _list(args.plans) for r in changes(args, size, plan)]
    cpu = cpu_only(args, args.cpu_size) if args.cpu_size else {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps({"machine": machine(), "args": vars(args),
                                                       "results": results, "changes": captured, "cpu_only": cpu,
                                                       "counted": counted}, indent=2))
    table = markdown(results, captured, cpu, args) + "\n" + "\n".join(floor.markdown(counted))
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text() if readme.exists() else f"# Benchmark\n\n{TABLE_START}\n{TABLE_END}\n"
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    readme.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}")
    print("\n" + table)


if __name__ == "__main__":
    main()
