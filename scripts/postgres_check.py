"""`make postgres-check`: a full and an incremental sync loaded into a real PostgreSQL, checked with SQL.

PostgreSQL runs from a temporary data directory, on 127.0.0.1 and a free port only (installed
with apt-get if this machine has none; as the `postgres` user when run as root), and is stopped
and removed at the end whatever happens. The tap runs against the fake Asana (demo dataset) and
pipes into MeltanoLabs target-postgres (its own venv, .tools/target-postgres, upsert on `gid`).
Checked with SQL after each run:

- the live rows of every table (`_sdc_deleted_at IS NULL`) are exactly the records the fake's own
  copy of the data says a sync must send (GET /_control/export, tests/tapkit.py's oracle);
- a custom field's value per task is selectable, and equals the fake's, both from the tasks'
  `custom_fields` array and as rows of task_custom_field_values (`WHERE name = 'Priority'`);
- after changes made through the fake's control endpoint: the changed tasks carry their new
  names, the new stories and tasks are there, and fewer records were loaded than the first time;
- tasks deleted in Asana (2, with their subtasks) are marked deleted (`_sdc_deleted_at` set): the
  tap sends deletes, as records with `_sdc_deleted_at`.

Exit 0 when every check passed, 1 otherwise. Logs and files go to .tools/postgres-check/.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Set

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks import CheckFailed, check  # noqa: E402  (scripts/ is on the path: the script runs from there)
from fake_asana import FakeAsana  # noqa: E402
from tap_asana.discover import discover  # noqa: E402
from tap_asana.streams import STREAMS  # noqa: E402
from tests.tapkit import START_DATE, expected_records  # noqa: E402

TARGET = ROOT / ".tools" / "target-postgres" / "bin" / "target-postgres"
OUT = ROOT / ".tools" / "postgres-check"
SCHEMA = "tap_asana"
INCREMENTAL = tuple(name for name, stream in STREAMS.items() if stream.replication_key)

# The SQL the README shows: one custom field's value per task.
CUSTOM_FIELD_SQL = f"""
SELECT t.gid, t.name, cf->>'display_value' AS value
FROM {SCHEMA}.tasks AS t
CROSS JOIN LATERAL unnest(t.custom_fields) AS cf  -- target-postgres keeps arrays as jsonb[]
WHERE cf->>'name' = %s AND t._sdc_deleted_at IS NULL
ORDER BY t.gid"""
# The same as rows of task_custom_field_values (the README's query too).
VALUE_ROWS_SQL = f"""
SELECT v.task_gid, t.name, v.display_value
FROM {SCHEMA}.task_custom_field_values AS v
JOIN {SCHEMA}.tasks AS t ON t.gid = v.task_gid
WHERE v.name = %s AND t._sdc_deleted_at IS NULL
ORDER BY v.task_gid"""
#: a table's key as one string, as tests/tapkit.py's record_key builds it
KEY_SQL = {"task_custom_field_values": "task_gid || ':' || custom_field_gid"}


# --- a throw-away PostgreSQL ---------------------------------------------------------------------
def postgres_bin() -> Path:
    """The newest installed server's bin directory; apt-get installs one if there is none."""
    for attempt in range(2):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if found:
            return Path(found[-1]).parent
        if shutil.which("initdb"):
            return Path(shutil.which("initdb")).parent
        if attempt == 0:
            if os.geteuid() != 0:
                raise SystemExit("PostgreSQL is not installed: run `sudo apt-get install postgresql`, then again")
            print("PostgreSQL is not installed: apt-get install postgresql")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.check_call(["apt-get", "update", "-q"], env=env)
            subprocess.check_call(["apt-get", "install", "-y", "-q", "postgresql"], env=env)
    raise SystemExit("apt-get installed postgresql but no initdb was found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """initdb in a temp dir, listen on 127.0.0.1 only; `stop()` removes everything."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="tap-asana-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "tap_asana"
        # initdb refuses to run as root: then the server runs as the postgres user. Trust auth is
        # enough for a server that lives a minute, on loopback, with nothing but the fake's data.
        self.as_user: List[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.started = False

    def _server(self, *args: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bin / args[0]), *args[1:]], text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)
        if result.returncode != 0:
            log = self.dir / "server.log"
            raise CheckFailed(f"{args[0]} exited {result.returncode}: {result.stderr.strip()}"
                              + (f"\n{log.read_text()[-1500:]}" if log.exists() else ""))

    def start(self) -> "Postgres":
        self._server("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-locale")
        self.started = True
        self._server("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "start",
                     "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}")
        self.sql("CREATE DATABASE asana", database="postgres")
        print(f"PostgreSQL {self.bin.parent.name} on 127.0.0.1:{self.port}, data in {self.data}")
        return self

    def stop(self) -> None:
        if self.started:
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                            "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
            self.started = False
            print("PostgreSQL stopped")
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, query: str, *params: str, database: str = "asana") -> List[List[str]]:
        """Rows of a query through psql (tab-separated); %s placeholders become quoted literals."""
        for value in params:
            query = query.replace("%s", "'" + value.replace("'", "''") + "'", 1)
        psql = self.bin / "psql" if (self.bin / "psql").exists() else "psql"
        result = subprocess.run([str(psql), "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                                 "-d", database, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise CheckFailed(f"psql: {result.stderr.strip()} in: {query.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines()]

    def live_gids(self, table: str) -> Set[str]:
        key = KEY_SQL.get(table, "gid")
        return {r[0] for r in self.sql(f"SELECT {key} FROM {SCHEMA}.{table} WHERE _sdc_deleted_at IS NULL")}


# --- tap | target-postgres -------------------------------------------------------------------------
def load(name: str, state: Optional[dict]) -> tuple:
    """Run tap-asana | target-postgres in OUT; returns (records sent per stream, last STATE)."""
    args = [sys.executable, "-m", "tap_asana", "-c", "tap.json", "--catalog", "catalog.json"]
    if state is not None:
        (OUT / "state.json").write_text(json.dumps(state))
        args += ["--state", "state.json"]
    started = time.monotonic()
    with open(OUT / f"{name}.tap.log", "w") as tap_log, open(OUT / f"{name}.target.log", "w") as target_log, \
            open(OUT / f"{name}.singer", "w") as singer, open(OUT / f"{name}.states", "w") as states:
        tap = subprocess.Popen(args, cwd=OUT, stdout=subprocess.PIPE, stderr=tap_log, text=True)
        target = subprocess.Popen([str(TARGET), "--config", "target.json"], cwd=OUT, stdin=subprocess.PIPE,
                                  stdout=states, stderr=target_log, text=True)
        try:
            for line in tap.stdout:  # a copy of the stream, to count what was sent
                singer.write(line)
                target.stdin.write(line)
            target.stdin.close()
            codes = tap.wait(), target.wait()
        finally:  # stopped early (a signal, a broken pipe): no process outlives the check
            for process in (tap, target):
                if process.poll() is None:
                    process.terminate()
                    process.wait()
    print(f"$ tap-asana ... | target-postgres --config target.json   ({name}: exit {codes[0]} | {codes[1]}, "
          f"{time.monotonic() - started:.1f}s)")
    if codes != (0, 0):
        for log in (f"{name}.tap.log", f"{name}.target.log"):
            sys.stderr.write((OUT / log).read_text()[-3000:])
        raise CheckFailed(f"{name}: tap exited {codes[0]}, target-postgres exited {codes[1]}; logs in {OUT}")
    messages = (json.loads(line) for line in (OUT / f"{name}.singer").open())
    sent = Counter(m["stream"] for m in messages if m["type"] == "RECORD")
    lines = [line for line in (OUT / f"{name}.states").read_text().splitlines() if line.strip()]
    return sent, json.loads(lines[-1])


def expected_now(fake: FakeAsana) -> Dict[str, Dict[str, dict]]:
    export = fake.export()
    return expected_records(export, {s: START_DATE for s in INCREMENTAL},
                            forbidden_projects=set(export["meta"]["forbidden_projects"]),
                            free_workspaces=set(export["meta"]["free_workspaces"]))


def check_tables(pg: Postgres, want: Dict[str, Dict[str, dict]], sent: Counter,
                 allowed_extra: Dict[str, Set[str]] = {}) -> None:
    print(f"  {'table':<25}{'sent':>8}{'live rows':>11}{'fake has':>10}")
    wrong = []
    for stream, records in want.items():
        live = pg.live_gids(stream) if records or sent[stream] else set()
        missing, extra = set(records) - live, live - set(records) - allowed_extra.get(stream, set())
        print(f"  {stream:<25}{sent[stream]:>8}{len(live):>11}{len(records):>10}"
              f"{'' if not (missing or extra) else f'  missing {sorted(missing)[:3]}, others {sorted(extra)[:3]}'}")
        if missing or extra:
            wrong.append(stream)
    check(not wrong, f"the live rows (_sdc_deleted_at IS NULL) of all {len(want)} tables are exactly the fake's "
                     f"records{f' (not in {wrong})' if wrong else ''}")


def check_custom_field(pg: Postgres, want: Dict[str, Dict[str, dict]]) -> None:
    names = Counter(cf["name"] for task in want["tasks"].values() for cf in task.get("custom_fields") or [])
    field = "Priority" if "Priority" in names else names.most_common(1)[0][0]  # the README's example
    rows = pg.sql(CUSTOM_FIELD_SQL, field)
    got = {gid: value for gid, _name, value in rows}
    expected = {gid: next(cf.get("display_value") or "" for cf in task["custom_fields"] if cf["name"] == field)
                for gid, task in want["tasks"].items()
                if any(cf["name"] == field for cf in task.get("custom_fields") or [])}
    sample = ", ".join(f"{name!r}: {value!r}" for _gid, name, value in rows[:2])
    check(got == expected, f"custom field {field!r} per task by SQL: {len(got)} tasks, values equal the "
                           f"fake's (e.g. {sample})")
    rows = pg.sql(VALUE_ROWS_SQL, field)
    as_rows = {gid: value for gid, _name, value in rows}
    check(as_rows == expected, f"the same as rows: task_custom_field_values WHERE name = {field!r}: "
                               f"{len(as_rows)} tasks, values equal the fake's")


def run_checks(pg: Postgres, fake: FakeAsana) -> None:
    catalog = discover()
    schemas = {e["stream"]: e["schema"] for e in catalog["streams"]}
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = True
    (OUT / "catalog.json").write_text(json.dumps(catalog))
    (OUT / "tap.json").write_text(json.dumps({"access_token": fake.pat, "api_url": fake.api_url,
                                              "oauth_token_url": fake.token_url, "start_date": START_DATE}))
    (OUT / "target.json").write_text(json.dumps({
        "host": "127.0.0.1", "port": pg.port, "user": pg.user, "password": "", "database": "asana",
        "default_target_schema": SCHEMA, "load_method": "upsert", "add_record_metadata": True,
        "hard_delete": False, "activate_version": True}))

    print("\nRun 1, full sync")
    sent, state = load("full", None)
    check_tables(pg, expected_now(fake), sent)
    check_custom_field(pg, expected_now(fake))
    loaded = set(pg.live_gids("tasks")) | set(pg.live_gids("subtasks"))

    check("_sdc_deleted_at" in schemas["tasks"]["properties"], "the tasks schema has _sdc_deleted_at (the tap "
          "sends deletes)")
    deleted = fake.mutate("delete_tasks", count=2)["gids"]
    modified = fake.mutate("modify_tasks", count=3)["gids"]
    stories = fake.mutate("add_stories", count=4)["gids"]
    added = fake.mutate("add_tasks", count=2)["gids"]
    print(f"\nChanged through POST /_control/mutate: renamed tasks {modified}, 4 new stories, new tasks {added}"
          f", deleted {deleted} (with their subtasks)")

    print("\nRun 2, incremental, from the last STATE target-postgres wrote")
    sent2, _ = load("incremental", state)
    want = expected_now(fake)
    # A deleted task's stories, attachments, time entries and value rows stay live: Asana names
    # none of them once the task is gone (queries join tasks WHERE _sdc_deleted_at IS NULL).
    below_deleted = {"stories": "target->>'gid'", "attachments": "parent->>'gid'",
                     "time_tracking_entries": "task->>'gid'", "task_custom_field_values": "task_gid"}
    gone = {table: {r[0] for r in pg.sql(f"SELECT {KEY_SQL.get(table, 'gid')} FROM {SCHEMA}.{table} "
                                         f"WHERE {column} = ANY(%s)", "{" + ",".join(deleted) + "}")}
            for table, column in below_deleted.items()} if deleted else {}
    marked = {r[0] for table in ("tasks", "subtasks") for r in pg.sql(
        f"SELECT gid FROM {SCHEMA}.{table} WHERE _sdc_deleted_at IS NOT NULL AND gid = ANY(%s)",
        "{" + ",".join(deleted) + "}")}
    check(marked == set(deleted) & loaded,
          f"the {len(set(deleted) & loaded)} deleted tasks and subtasks have _sdc_deleted_at set "
          f"(missing {sorted(set(deleted) & loaded - marked)[:3]})")
    check_tables(pg, want, sent2, allowed_extra=gone)
    check_custom_field(pg, want)
    names = dict(pg.sql(f"SELECT gid, name FROM {SCHEMA}.tasks WHERE gid = ANY(%s)", "{" + ",".join(modified) + "}"))
    check(names == {g: want["tasks"].get(g, {}).get("name") for g in modified},
          f"the {len(modified)} renamed tasks carry their new names ({', '.join(sorted(names.values()))[:80]}...)")
    check(set(stories) <= pg.live_gids("stories") and set(added) <= pg.live_gids("tasks"),
          "the new stories and the new tasks are loaded")
    check(sum(sent2.values()) < sum(sent.values()),
          f"run 2 loaded fewer records ({sum(sent2.values())} vs {sum(sent.values())})")


def main() -> int:
    if not TARGET.exists():
        raise SystemExit(f"{TARGET} is missing: run `make postgres-check`, which installs it")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    started = time.monotonic()
    pg = Postgres()
    try:
        pg.start()  # inside try: a server that half started is stopped too
        with FakeAsana(preset="demo", seed=1) as fake:
            print(f"Fake Asana listening on {fake.url} (dataset 'demo')")
            run_checks(pg, fake)
    except CheckFailed as exc:
        print(f"\npostgres-check FAILED: {exc}")
        return 1
    finally:
        pg.stop()
    print(f"\npostgres-check passed in {time.monotonic() - started:.0f}s; logs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
