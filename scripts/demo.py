"""`make demo`: a real sync against the fake Asana, then an incremental one after changes.

Everything it writes goes under demo/ (ignored by git). The fake Asana runs in this
process and is stopped whatever happens.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fake_asana import FakeAsana  # noqa: E402

OUT = Path(os.environ.get("TAP_ASANA_DEMO_OUT", ROOT / "demo"))  # tests point it elsewhere
EXTRACTED = re.compile(r"Extracted (\w+): (\d+) records?, (\d+) pages?, ([\d.]+)s")


def tap(*args: str, stdout_file: Path, log_file: Path) -> float:
    started = time.monotonic()
    with open(stdout_file, "w") as out, open(log_file, "w") as log:
        code = subprocess.call([sys.executable, "-m", "tap_asana", *args], cwd=OUT, stdout=out, stderr=log)
    if code != 0:
        sys.stderr.write(log_file.read_text())
        raise SystemExit(f"tap-asana exited {code}; see {log_file}")
    return time.monotonic() - started


def table(output: Path, log: Path) -> Counter:
    records = Counter(json.loads(l)["stream"] for l in output.read_text().splitlines()
                      if l and json.loads(l)["type"] == "RECORD")
    stats = {m[0]: (int(m[2]), float(m[3])) for m in EXTRACTED.findall(log.read_text())}
    print(f"  {'stream':<26}{'records':>9}{'pages':>10}{'seconds':>9}")
    for stream, (pages, seconds) in stats.items():
        print(f"  {stream:<26}{records[stream]:>9}{pages:>10}{seconds:>9.2f}")
    return records


def last_state(output: Path) -> dict:
    states = [json.loads(l)["value"] for l in output.read_text().splitlines() if '"STATE"' in l]
    return states[-1]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with FakeAsana(preset="demo", seed=1) as fake:
        print(f"Fake Asana listening on {fake.url} (dataset 'demo')")
        (OUT / "config.json").write_text(json.dumps({
            "access_token": fake.pat, "api_url": fake.api_url, "oauth_token_url": fake.token_url,
            "start_date": "2020-01-01T00:00:00Z"}, indent=2))
        with open(OUT / "catalog.json", "w") as catalog_file:
            subprocess.check_call([sys.executable, "-m", "tap_asana", "-c", "config.json", "--discover"],
                                  cwd=OUT, stdout=catalog_file)
        catalog = json.loads((OUT / "catalog.json").read_text())
        for entry in catalog["streams"]:
            entry["metadata"][0]["metadata"]["selected"] = True  # breadcrumb [] comes first
        (OUT / "catalog.json").write_text(json.dumps(catalog, indent=2))

        fake.reset_stats()
        seconds = tap("-c", "config.json", "--catalog", "catalog.json",
                      stdout_file=OUT / "full.jsonl", log_file=OUT / "full.log")
        print(f"\nFull sync: {seconds:.1f}s, {fake.stats()['total']} requests -> demo/full.jsonl")
        table(OUT / "full.jsonl", OUT / "full.log")
        (OUT / "state.json").write_text(json.dumps(last_state(OUT / "full.jsonl")))

        tasks = fake.mutate("modify_tasks", count=3)
        subtasks = fake.mutate("modify_tasks", count=1, subtasks=True)
        stories = fake.mutate("add_stories", count=4)
        print(f"\nChanged through the control endpoint: tasks {tasks['gids']}, subtask {subtasks['gids']},"
              f" {len(stories['gids'])} new stories")

        fake.reset_stats()
        seconds = tap("-c", "config.json", "--catalog", "catalog.json", "--state", "state.json",
                      stdout_file=OUT / "incremental.jsonl", log_file=OUT / "incremental.log")
        print(f"\nIncremental sync: {seconds:.1f}s, {fake.stats()['total']} requests -> demo/incremental.jsonl")
        table(OUT / "incremental.jsonl", OUT / "incremental.log")
        got = {}
        for line in (OUT / "incremental.jsonl").read_text().splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD" and "gid" in message["record"]:  # value rows are keyed otherwise
                got.setdefault(message["stream"], set()).add(message["record"]["gid"])
        want_stories = set(stories["gids"])
        changed_tasks = set(tasks["gids"]) | set(subtasks["gids"]) | set(stories["task_gids"])
        came = got.get("tasks", set()) | got.get("subtasks", set())
        print(f"\n  stories: {len(want_stories & got.get('stories', set()))}/{len(want_stories)} new stories came through,"
              f" {len(got.get('stories', set()) - want_stories)} others")
        print(f"  tasks and subtasks: {len(changed_tasks & came)}/{len(changed_tasks)} changed ones came through,"
              f" {len(came - changed_tasks)} others")
        if want_stories - got.get("stories", set()) or changed_tasks - came:
            raise SystemExit("the incremental sync missed a change")
        print("\nDemo done: outputs, logs, config, catalog and state are in demo/")


if __name__ == "__main__":
    main()
