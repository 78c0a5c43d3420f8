"""`make meltano-check`: the repository's meltano.yml, run by a real Meltano against the fake Asana.

Meltano lives in its own venv (.tools/meltano, made by the Makefile); its plugins and system
database go to .tools/meltano-project (MELTANO_SYS_DIR_ROOT), its outputs to .tools/meltano-check.
The script installs the plugins, checks that secrets are redacted, discovers, changes the
selection with `meltano select`, runs `meltano run tap-asana target-jsonl`, changes data through
the fake's control endpoint, runs again from the state Meltano kept, and asserts that the second
run is incremental. meltano.yml is put back as it was whatever happens (`meltano select` edits
it). Exit 0 when every check passed, 1 otherwise. Not part of `make test`: it takes a minute.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks import CheckFailed, check  # noqa: E402  (scripts/ is on the path: the script runs from there)
from fake_asana import FakeAsana  # noqa: E402
from tap_asana.streams import STREAMS  # noqa: E402

TOOLS = ROOT / ".tools"
MELTANO = TOOLS / "meltano" / "bin" / "meltano"
OUT = TOOLS / "meltano-check"
STATE_ID = "dev:tap-asana-to-target-jsonl"
START_DATE = "2020-01-01T00:00:00Z"


def meltano(env: Dict[str, str], *args: str, log: str) -> str:
    """Run one meltano command in the repository; its stderr goes to OUT/<log>.log."""
    started = time.monotonic()
    with open(OUT / f"{log}.log", "w") as err:
        result = subprocess.run([str(MELTANO), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=err, text=True)
    print(f"$ meltano {' '.join(args)}  ({time.monotonic() - started:.1f}s)")
    if result.returncode != 0:
        sys.stderr.write((OUT / f"{log}.log").read_text()[-4000:])
        raise CheckFailed(f"meltano {' '.join(args)} exited {result.returncode}; see {OUT / log}.log")
    return result.stdout


def records(folder: Path) -> Dict[str, List[dict]]:
    """target-jsonl's output: one <stream>.jsonl per stream, one record a line."""
    return {path.stem: [json.loads(line) for line in path.read_text().splitlines() if line]
            for path in sorted(folder.glob("*.jsonl"))}


def gids(rows: Dict[str, List[dict]], *streams: str) -> Set[str]:
    return {r["gid"] for s in streams for r in rows.get(s, [])}


def table(first: Dict[str, List[dict]], second: Dict[str, List[dict]]) -> None:
    print(f"  {'stream':<12}{'run 1':>8}{'run 2':>8}")
    for stream in sorted(set(first) | set(second)):
        print(f"  {stream:<12}{len(first.get(stream, [])):>8}{len(second.get(stream, [])):>8}")


def run_checks(fake: FakeAsana, env: Dict[str, str]) -> None:
    meltano(env, "install", log="install")
    printed = meltano(env, "config", "print", "tap-asana", log="config")
    shown = json.loads(printed)
    check(fake.pat not in printed and shown.get("access_token") == "*****",
          "`meltano config print` redacts access_token (sensitive: true)")
    check(shown.get("api_url") == fake.api_url, "settings come from TAP_ASANA_* variables")

    catalog = json.loads(meltano(env, "invoke", "tap-asana", "--discover", log="discover"))
    streams = sorted(e["stream"] for e in catalog["streams"])
    check(sorted(streams) == sorted(STREAMS), f"discover finds the tap's {len(STREAMS)} streams: {', '.join(streams)}")

    meltano(env, "--no-environment", "select", "tap-asana", "--rm", "portfolios", "*", log="select-rm")
    meltano(env, "--no-environment", "select", "tap-asana", "--exclude", "tasks", "html_notes", log="select-exclude")
    listed = {line.split("]")[-1].strip()
              for line in meltano(env, "--no-environment", "select", "tap-asana", "--list", log="select-list")
              .splitlines() if "[selected" in line or "[automatic" in line}
    check(not any(p.startswith("portfolios.") for p in listed) and "tasks.html_notes" not in listed
          and {"tasks.name", "subtasks.html_notes"} <= listed,
          f"`meltano select --list` drops portfolios and tasks.html_notes ({len(listed)} properties selected)")

    fake.reset_stats()
    env["TARGET_JSONL_DESTINATION_PATH"] = str(OUT / "run1")
    meltano(env, "run", "--full-refresh", "tap-asana", "target-jsonl", log="run1")
    first, first_requests = records(OUT / "run1"), fake.stats()["total"]
    check(bool(first.get("tasks")) and bool(first.get("stories")), "run 1 loads tasks and stories")
    check("portfolios" not in first, "run 1 loads no portfolios (deselected)")
    check(all("html_notes" not in r for r in first["tasks"])
          and any("html_notes" in r for r in first.get("subtasks", [])),
          "tasks come without html_notes (excluded), subtasks with it")
    state = json.loads(meltano(env, "state", "get", STATE_ID, log="state1"))
    bookmarks = state.get("singer_state", {}).get("bookmarks", {})
    check({"tasks", "subtasks", "stories"} <= set(bookmarks),
          f"Meltano keeps the tap's state under {STATE_ID} (bookmarks: {', '.join(sorted(bookmarks))})")

    tasks = fake.mutate("modify_tasks", count=3)
    subtasks = fake.mutate("modify_tasks", count=1, subtasks=True)
    stories = fake.mutate("add_stories", count=4)
    print(f"Changed through POST /_control/mutate: tasks {tasks['gids']}, subtask {subtasks['gids']}, "
          f"{len(stories['gids'])} new stories on {sorted(set(stories['task_gids']))}")

    fake.reset_stats()
    env["TARGET_JSONL_DESTINATION_PATH"] = str(OUT / "run2")
    meltano(env, "run", "tap-asana", "target-jsonl", log="run2")
    second, second_requests = records(OUT / "run2"), fake.stats()["total"]
    table(first, second)
    print(f"  requests to the fake: run 1 {first_requests}, run 2 {second_requests}")
    run2_log = (OUT / "run2.log").read_text()
    check("Reading state from" in run2_log and "Performing full refresh" not in run2_log,
          "run 2 read the state Meltano kept (its log: 'Reading state from Database')")
    changed = set(tasks["gids"]) | set(subtasks["gids"]) | set(stories["task_gids"])
    came = gids(second, "tasks", "subtasks")
    check(came == changed, f"run 2 sends exactly the {len(changed)} changed tasks and subtasks "
                           f"(missing {sorted(changed - came)}, others {sorted(came - changed)})")
    check(gids(second, "stories") == set(stories["gids"]),
          f"run 2 sends exactly the {len(stories['gids'])} new stories")
    for stream in ("projects", "tags"):
        check(len(second.get(stream, [])) < len(first.get(stream, [])) or not first.get(stream),
              f"run 2 sends fewer {stream} ({len(second.get(stream, []))} of {len(first.get(stream, []))})")
    check(sum(map(len, second.values())) < sum(map(len, first.values())),
          f"run 2 sends fewer records ({sum(map(len, second.values()))} vs {sum(map(len, first.values()))})")
    check(second_requests < first_requests, "run 2 makes fewer requests")
    later = json.loads(meltano(env, "state", "get", STATE_ID, log="state2"))["singer_state"]["bookmarks"]
    check(all(later[s] != bookmarks[s] for s in ("tasks", "subtasks", "stories")),
          "the bookmarks of tasks, subtasks and stories moved forward")


def main() -> int:
    if not MELTANO.exists():
        raise SystemExit(f"{MELTANO} is missing: run `make meltano-check`, which installs it")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    project_file = ROOT / "meltano.yml"
    original = project_file.read_bytes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` puts meltano.yml back
    started = time.monotonic()
    try:
        with FakeAsana(preset="demo", seed=1) as fake:
            print(f"Fake Asana listening on {fake.url} (dataset 'demo')")
            env = {**os.environ, "MELTANO_SYS_DIR_ROOT": str(TOOLS / "meltano-project"),
                   "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_ENVIRONMENT": "dev",
                   "NO_COLOR": "1", "TAP_ASANA_ACCESS_TOKEN": fake.pat, "TAP_ASANA_API_URL": fake.api_url,
                   "TAP_ASANA_OAUTH_TOKEN_URL": fake.token_url, "TAP_ASANA_START_DATE": START_DATE}
            run_checks(fake, env)
    except CheckFailed as exc:
        print(f"\nmeltano-check FAILED: {exc}")
        return 1
    finally:
        project_file.write_bytes(original)  # `meltano select` wrote its patterns there
    print(f"\nmeltano-check passed in {time.monotonic() - started:.0f}s; outputs and logs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
