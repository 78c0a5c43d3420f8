"""What a run tells its watchers (progress.Reporter), the hooks that feed it (the client's
on_request, the scheduler's tick), and the free-plan budget (AsanaClient.limit_rate)."""
from __future__ import annotations

import json
import logging
import threading
from typing import Callable, List

import pytest
import responses

from tap_asana.client import FREE_PLAN_PER_MINUTE, AsanaClient, RateLimiter
from tap_asana.progress import Reporter
from tap_asana.scheduler import Job, Scheduler
from tests.conftest import API, FakeClock, make_config


@pytest.fixture
def log(caplog) -> Callable[[], List[str]]:
    caplog.set_level(logging.INFO, logger="tap_asana")
    return lambda: caplog.messages


def metrics_in(lines: List[str]) -> List[dict]:
    return [json.loads(line[len("METRIC: "):]) for line in lines if line.startswith("METRIC: ")]


def test_progress_line_when_due_with_records_requests_and_rate_limit_waits(clock: FakeClock, log):
    reporter = Reporter(streams=["tasks", "stories"], every=30, clock=clock)
    reporter.request("GET /projects/{gid}/tasks", 0.2, 200)
    reporter.request("GET /projects/{gid}/tasks", 0.1, 429)
    for _ in range(3):
        reporter.record("tasks")
    clock.now += 29
    reporter.tick()
    assert not [line for line in log() if line.startswith("Progress")]
    clock.now += 1
    reporter.tick()
    reporter.tick()  # not due again yet
    progress = [line for line in log() if line.startswith("Progress")]
    assert progress == ["Progress after 30s: 3 records (tasks 3), 2 requests, 1 rate-limit wait"]


def test_metrics_are_singer_python_points(clock: FakeClock, log):
    reporter = Reporter(streams=["tasks"], every=30, clock=clock)
    reporter.request("GET /tasks/{gid}/stories", 0.25, 200)
    reporter.request("GET /tasks/{gid}/stories", 1.5, None)
    reporter.record("tasks")
    reporter.record("tasks")
    clock.now += 30
    reporter.tick()
    reporter.record("tasks")
    reporter.summary(ok=True)
    points = metrics_in(log())
    timers = [p for p in points if p["metric"] == "http_request_duration"]
    assert timers == [
        {"type": "timer", "metric": "http_request_duration", "value": 0.25,
         "tags": {"endpoint": "GET /tasks/{gid}/stories", "http_status_code": 200, "status": "succeeded"}},
        {"type": "timer", "metric": "http_request_duration", "value": 1.5,
         "tags": {"endpoint": "GET /tasks/{gid}/stories", "http_status_code": None, "status": "failed"}},
    ]
    counts = [(p["value"], p["tags"]) for p in points if p["metric"] == "record_count"]
    assert counts == [(2, {"endpoint": "tasks"}), (1, {"endpoint": "tasks"})]  # increments, as singer's Counter


def test_time_per_stream_is_wall_time_with_requests_in_flight(clock: FakeClock, log):
    reporter = Reporter(streams=["tasks", "stories"], every=1000, clock=clock)
    with reporter.working("tasks"):  # 0..10, overlapping a second tasks page 5..15: 15 s, not 20
        clock.now += 5
        with reporter.working("tasks"):
            clock.now += 5
            with reporter.working("stories"):
                clock.now += 5
    clock.now += 100  # nothing in flight: not anyone's time
    with reporter.working("stories"):
        clock.now += 2
    with reporter.working("projects"):  # walked, not selected
        clock.now += 1
    reporter.record("tasks")
    reporter.summary(ok=True)
    assert "Extracted tasks: 1 record, 2 pages, 15.0s with requests in flight" in log()
    assert "Extracted stories: 0 records, 2 pages, 7.0s with requests in flight" in log()
    assert "Read projects, not selected, to reach what hangs below: 1 page, 1.0s with requests in flight" in log()
    assert log()[-1] == "Sync finished in 118.0s: 1 record, 0 requests, 0 rate-limit waits"


def test_a_failed_or_stopped_run_never_says_finished(clock: FakeClock, log):
    reporter = Reporter(streams=["tasks"], clock=clock)
    reporter.request("GET /users/me", 0.1, 200)
    try:
        with reporter.working("tasks"):
            clock.now += 4
            reporter.summary(ok=False)  # a request still in flight counts until now
            raise RuntimeError
    except RuntimeError:
        pass
    assert "Extracted tasks: 0 records, 0 pages, 4.0s with requests in flight" in log()
    assert log()[-1] == "Sync failed after 4.0s: 0 records sent, 1 request, 0 rate-limit waits"
    Reporter(clock=clock).summary(ok=False, stopped=True)
    assert log()[-1].startswith("Sync stopped after")
    assert not any(line.startswith("Sync finished") for line in log())


def test_the_scheduler_ticks_while_it_waits_for_a_slow_job():
    release = threading.Event()
    ticks: List[int] = []

    def tick() -> None:
        ticks.append(1)
        if len(ticks) >= 3:
            release.set()

    scheduler = Scheduler(2, lambda _p: (), threading.Event(), tick=tick)
    scheduler.add(Job("p", lambda: release.wait(5), lambda _r: ()))
    scheduler.run()
    assert len(ticks) >= 3 and release.is_set()


@responses.activate
def test_the_client_reports_every_http_attempt_with_route_seconds_and_status():
    seen = []
    client = AsanaClient(make_config(api_url=API), backoff_factor=0, sleep=lambda _s: None,
                         on_request=lambda route, seconds, status: seen.append((route, status, seconds >= 0)))
    responses.get(f"{API}/projects/123/tasks", status=500, json={"errors": [{"message": "boom"}]})
    responses.get(f"{API}/projects/123/tasks", status=200, json={"data": [], "next_page": None})
    client.get("/projects/123/tasks", {})
    assert seen == [("GET /projects/{gid}/tasks", 500, True), ("GET /projects/{gid}/tasks", 200, True)]


@responses.activate
def test_a_dropped_connection_is_reported_without_a_status():
    import requests

    seen = []
    client = AsanaClient(make_config(api_url=API, max_retries=1), backoff_factor=0, sleep=lambda _s: None,
                         on_request=lambda route, seconds, status: seen.append((route, status)))
    responses.get(f"{API}/users/me", body=requests.ConnectionError("reset"))
    with pytest.raises(Exception):
        client.get("/users/me", {})
    assert seen == [("GET /users/{gid}", None)]


def test_limit_rate_lowers_the_budget_and_never_raises_it(clock: FakeClock):
    limiter = RateLimiter(1500, 12, clock=clock, sleep=clock.sleep)
    assert limiter.lower(FREE_PLAN_PER_MINUTE) is True
    assert limiter.lower(1500) is False and limiter.per_minute == FREE_PLAN_PER_MINUTE
    start = clock.now
    for _ in range(FREE_PLAN_PER_MINUTE + 5):  # a burst, then the refill rate
        limiter.acquire()
        limiter.release()
    assert clock.now - start >= 60.0  # 155 requests cannot pass in under a minute at 150/min


def test_client_limit_rate_logs_once(log):
    client = AsanaClient(make_config(api_url=API))
    client.limit_rate(FREE_PLAN_PER_MINUTE)
    client.limit_rate(FREE_PLAN_PER_MINUTE)
    assert client.limiter.per_minute == FREE_PLAN_PER_MINUTE
    assert [line for line in log() if "requests a minute" in line] == [
        "Keeping to 150 requests a minute from now on (was 1500)"]
