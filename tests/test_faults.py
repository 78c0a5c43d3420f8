"""Nothing lost, nothing leaked: kills and resumes, injected faults, clean stops, secrets.

Every test runs the real entry point against the fake Asana over real HTTP and compares
what came out with a clean run of the same dataset.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from fake_asana import FakeAsana
from tap_asana import state as st
from tests.tapkit import (TAP_ENV, TapRun, tap_command, assert_valid_singer, catalog_for, config_for, record_key,
                          run_tap)

SOAK = bool(os.environ.get("TAP_ASANA_SOAK"))
ALL = catalog_for()


def content(run_or_records) -> Dict[Tuple[str, str], str]:
    """(stream, gid) -> the record as canonical JSON."""
    records = run_or_records.by_stream() if isinstance(run_or_records, TapRun) else run_or_records
    return {(s, record_key(s, r)): json.dumps(r, sort_keys=True) for s, rs in records.items() for r in rs}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean full sync of the dataset every test here uses; the server stays up."""
    with FakeAsana(preset="tiny", seed=21, latency_ms=3) as fake:
        run = run_tap(tmp_path_factory.mktemp("clean"), config_for(fake), ALL)
        assert run.returncode == 0, run.stderr
        yield fake, run


def start_tap(workdir: Path, config: dict, catalog: dict, state: dict = None) -> subprocess.Popen:
    return subprocess.Popen(tap_command(workdir, config, catalog, state), cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=TAP_ENV)


def run_until(proc: subprocess.Popen, lines: int, sig: int) -> Tuple[List[dict], str, float]:
    """Read `lines` lines of output, then send `sig`; return every message, stderr and how
    long the tap took to exit after the signal."""
    err: List[str] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()  # a full stderr pipe would stall the tap
    messages = []
    sent = time.monotonic()
    for line in proc.stdout:
        messages.append(json.loads(line))
        if len(messages) >= lines:
            sent = time.monotonic()
            proc.send_signal(sig)
            break
    # Read on through the same file object: lines it has already buffered count too
    # (`communicate` would read the pipe beneath it and drop them).
    rest = proc.stdout.read()
    proc.wait(timeout=30)
    took = time.monotonic() - sent
    reader.join(timeout=30)
    for line in rest.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:  # SIGKILL can cut the last line short
            pass
    return messages, "".join(err), took


def records_of(messages: List[dict]) -> Dict[str, List[dict]]:
    out: Dict[str, List[dict]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            out.setdefault(m["stream"], []).append(m["record"])
    return out


def test_killed_at_many_points_then_resumed_loses_nothing(clean, tmp_path):
    fake, reference = clean
    want = content(reference)
    total = len(reference.messages)
    points = 25 if SOAK else 6  # every stream is selected: each resume is a whole sync
    free = {w["gid"] for w in fake.export()["workspaces"] if not w["is_organization"]}
    for i in range(points):
        # Cuts spread over the first 70% of the output: later ones could fit in the pipe's
        # buffer and let the tap finish before the kill lands.
        cut = 5 + (total * 7 // 10) * i // points
        proc = start_tap(tmp_path / f"kill{i}", config_for(fake), ALL)
        first, _, _ = run_until(proc, cut, signal.SIGKILL)
        assert proc.returncode == -signal.SIGKILL
        states = [m["value"] for m in first if m["type"] == "STATE"]
        state = states[-1] if states else None
        second = run_tap(tmp_path / f"resume{i}", config_for(fake), ALL, state=state)
        assert second.returncode == 0, second.stderr
        got = {**content(records_of(first)), **content(second)}
        assert set(got) == set(want), f"kill {i} at line {cut}: lost {sorted(set(want) - set(got))[:3]}"
        assert all(got[k] == want[k] for k in want), f"kill {i}: a record differs"
        if state and state.get("progress"):
            done = set(st.done_projects(state))
            for task in second.records("tasks"):  # each re-read task has a project not finished before
                homes = {p["gid"] for p in task.get("projects") or []}
                if homes:
                    assert homes - done, f"kill {i}: re-read task {task['gid']} of finished projects"
                else:  # a task in no project: its workspace's search (or, free, user listings) not finished
                    ws = task["workspace"]["gid"]
                    found_by = st.no_project_partition if ws in free else st.search_partition
                    assert not st.is_done(state, found_by(ws)), \
                        f"kill {i}: re-read task {task['gid']} in no project after its workspace's partition"


def test_an_incremental_run_through_project_events_killed_then_resumed_loses_nothing(tmp_path):
    """Free workspaces: sync tokens wait in `progress` until the run ends, so a project
    not finished before the kill reads its events again from the old token."""
    with FakeAsana(preset="tiny", seed=26, free_workspaces=True, latency_ms=3) as fake:
        full = run_tap(tmp_path / "full", config_for(fake), ALL)
        assert full.returncode == 0, full.stderr
        fake.mutate("modify_tasks", count=6)
        fake.mutate("modify_tasks", count=6, subtasks=True)
        fake.mutate("add_stories", count=8)
        fake.mutate("add_subtasks", count=3)
        # Asana returns the same events for the same token, so every run below sees the same changes.
        fake.reset_stats()
        reference = run_tap(tmp_path / "clean", config_for(fake), ALL, state=full.final_state)
        want = set(content(reference))
        assert "GET /tasks/{gid}/subtasks" not in fake.stats()["by_route"]
        assert len([k for k in want if k[0] in ("tasks", "subtasks", "stories")]) >= 15
        total = len(reference.messages)
        for i, cut in enumerate(range(12, total * 7 // 10, max(1, (total * 7 // 10 - 12) // 4))):
            proc = start_tap(tmp_path / f"kill{i}", config_for(fake), ALL, state=full.final_state)
            first, _, _ = run_until(proc, cut, signal.SIGKILL)
            states = [m["value"] for m in first if m["type"] == "STATE"]
            second = run_tap(tmp_path / f"resume{i}", config_for(fake), ALL, state=states[-1] if states else full.final_state)
            assert second.returncode == 0, second.stderr
            got = set(content(records_of(first))) | set(content(second))
            assert got == want, f"kill {i} at line {cut}: lost {sorted(want - got)[:3]}"
            assert second.final_state["sync_tokens"].keys() == reference.final_state["sync_tokens"].keys()


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_stop_quickly_with_a_resumable_state(clean, tmp_path, sig, code):
    fake, reference = clean
    proc = start_tap(tmp_path / "run", config_for(fake), ALL)
    messages, err, took = run_until(proc, len(reference.messages) // 3, sig)
    assert took < 10, "stopping must take seconds, not a whole run"
    assert proc.returncode == code, err
    assert messages[-1]["type"] == "STATE"
    assert "Traceback" not in err
    state = st.validate(messages[-1]["value"])
    second = run_tap(tmp_path / "resume", config_for(fake), ALL, state=state)
    assert second.returncode == 0
    got = {**content(records_of(messages)), **content(second)}
    assert set(got) == set(content(reference))


CHAOS = dict(fault_500=0.03, fault_503=0.02, fault_429=0.03, fault_truncate=0.02, fault_drop=0.02,
             fault_slow=0.03, slow_seconds=3, expire_offset_every=1)
if SOAK:  # `make soak`: twice the fault rates
    CHAOS.update({k: v * 2 for k, v in CHAOS.items() if k.startswith("fault_")})


def chaos_config(fake, **extra) -> dict:
    return config_for(fake, oauth=True, request_timeout=1, max_retries=10, page_size=5, **extra)


def test_full_and_incremental_sync_under_chaos_equal_clean_runs(tmp_path):
    seed, now = 22, "2026-11-01T00:00:00Z"  # both servers hold the very same data
    with FakeAsana(preset="tiny", seed=seed, now=now, latency_ms=2) as calm:
        clean_full = run_tap(tmp_path / "calm", config_for(calm, page_size=5), ALL)
        calm.mutate("modify_tasks", count=4)
        calm.mutate("add_stories", count=3)
        clean_incr = run_tap(tmp_path / "calm2", config_for(calm, page_size=5), ALL, state=clean_full.final_state)
    with FakeAsana(preset="tiny", seed=seed, now=now, latency_ms=2, token_ttl=2, **CHAOS) as wild:
        full = run_tap(tmp_path / "wild", chaos_config(wild), ALL, timeout=240)
        assert full.returncode == 0, full.stderr[-3000:]
        faults = wild.stats()["faults"]
        assert sum(faults.values()) >= 10, faults
        routes = wild.stats()["by_route"]
        expired = sum(c.get("400", 0) for c in routes.values())
        refreshes = sum(routes.get("POST /-/oauth_token", {}).values())
        assert expired >= 1 and refreshes >= 2, (expired, refreshes)  # offsets and tokens did expire
        print(f"\nchaos full sync: faults injected {faults}, expired offsets {expired}, token fetches {refreshes}, "
              f"requests {wild.stats()['total']}, "
              f"records {sum(len(v) for v in full.by_stream().values())}")
        wild.mutate("modify_tasks", count=4)
        wild.mutate("add_stories", count=3)
        incr = run_tap(tmp_path / "wild2", chaos_config(wild), ALL, state=full.final_state, timeout=240)
        assert incr.returncode == 0, incr.stderr[-3000:]
    assert_valid_singer(full)
    assert content(full) == content(clean_full)
    # mutations land at different times, so compare which records came, not their timestamps
    assert set(content(incr)) == set(content(clean_incr))


def test_a_fault_that_outlasts_the_retries_exits_1_with_one_line_and_a_safe_state(tmp_path):
    with FakeAsana(preset="tiny", seed=23, latency_ms=1) as fake:
        reference = run_tap(tmp_path / "ok", config_for(fake), ALL)
    with FakeAsana(preset="tiny", seed=23, latency_ms=1, fault_503=0.35) as fake:
        run = run_tap(tmp_path / "bad", config_for(fake, max_retries=2), ALL)
        assert run.returncode == 1
        critical = [l for l in run.stderr.splitlines() if l.startswith("CRITICAL")]
        assert len(critical) == 1 and "503" in critical[0]
        assert "Traceback" not in run.stderr
    with FakeAsana(preset="tiny", seed=23, latency_ms=1) as fake:
        state = run.states[-1] if run.states else None
        resumed = run_tap(tmp_path / "resume", config_for(fake), ALL, state=state)
        assert resumed.returncode == 0
        got = {**content(run), **content(resumed)}
        assert set(got) == set(content(reference))


def test_secrets_never_appear_anywhere_even_at_debug(tmp_path):
    with FakeAsana(preset="tiny", seed=24, token_ttl=1, latency_ms=5, fault_500=0.05, fault_drop=0.03) as fake:
        runs = [run_tap(tmp_path / "oauth", config_for(fake, oauth=True), ALL, args=["--log-level", "DEBUG"]),
                run_tap(tmp_path / "pat", config_for(fake), ALL, args=["--log-level", "DEBUG"])]
        bad = dict(fake.oauth, refresh_token="wrong-refresh-token-SECRET")
        refused = run_tap(tmp_path / "refused", {**config_for(fake, oauth=True), **bad}, ALL,
                          args=["--log-level", "DEBUG"])
        urls = "\n".join(fake.requests())
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    assert refused.returncode == 1 and "CRITICAL" in refused.stderr
    secrets = [fake.pat, fake.oauth["client_secret"], fake.oauth["refresh_token"], "wrong-refresh-token-SECRET"]
    for text in [r.stdout + r.stderr for r in runs + [refused]] + [urls]:
        for secret in secrets:
            assert secret not in text
    assert "DEBUG" in runs[0].stderr  # the runs did log at DEBUG


def test_rejected_token_at_start_is_one_clear_line(tmp_path):
    with FakeAsana(preset="tiny", seed=25) as fake:
        run = run_tap(tmp_path, {**config_for(fake), "access_token": "not-a-real-token"}, ALL)
    assert run.returncode == 1
    critical = [l for l in run.stderr.splitlines() if l.startswith("CRITICAL")]
    assert len(critical) == 1 and "rejected the credentials" in critical[0]
    assert run.stdout == ""


def test_a_signal_while_starting_against_a_silent_server_stops_at_once(tmp_path):
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (backlog) and never answers
    try:
        config = {"access_token": "pat-never-used", "request_timeout": 60,
                  "api_url": f"http://127.0.0.1:{silent.getsockname()[1]}/api/1.0"}
        proc = start_tap(tmp_path, config, ALL)
        silent.settimeout(30)
        silent.accept()  # the tap is connected, so its signal handlers are in place
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - sent < 5, "a request that never ends must not delay the stop"
        assert proc.returncode == 143, err
        assert out == "" and "Traceback" not in err
    finally:
        silent.close()


@pytest.mark.parametrize("plan", ["free", "premium"])
def test_a_first_sync_stopped_at_30_percent_resumes_redoing_little_of_it(tmp_path, plan):
    """Started partitions finish before new ones start, and large ones keep cursors: a first sync
    stopped part-way resumes with its work kept. `make bench` measures the waste (at most a tenth
    of a full sync is the target); this holds it under a fifth, whatever the signal's timing."""
    def requests(fake: FakeAsana, workdir: Path, state: Optional[dict] = None, stop_after: int = 0) -> tuple:
        before = fake.stats()["total"]
        with open(workdir.with_suffix(".out"), "w+") as out:
            proc = subprocess.Popen(tap_command(workdir, config_for(fake, requests_per_minute=60000), ALL, state), cwd=workdir, env=TAP_ENV,
                                    stdout=out, stderr=subprocess.DEVNULL, text=True)
            while stop_after and proc.poll() is None and fake.stats()["total"] - before < stop_after:
                time.sleep(0.005)
            if stop_after:
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=300)
            out.seek(0)
            states = [m["value"] for m in map(json.loads, out) if m["type"] == "STATE"]
        return fake.stats()["total"] - before, (states[-1] if states else None), proc.returncode

    with FakeAsana(preset="demo", seed=5, plan=plan, latency_ms=5) as fake:
        full, _, code = requests(fake, tmp_path / "full")
        assert code == 0
    with FakeAsana(preset="demo", seed=5, plan=plan, latency_ms=5) as fake:
        part, state, code = requests(fake, tmp_path / "part", stop_after=full * 3 // 10)
        assert code == 143 and state and state["progress"]["done"]
        rest, _, code = requests(fake, tmp_path / "rest", state=state)
        assert code == 0
    assert part + rest - full <= full // 5, (part, rest, full)
