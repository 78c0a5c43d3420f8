"""The HTTP client at the HTTP boundary, with `responses`."""
from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from tap_asana.client import (AsanaClient, AuthRejected, Fatal, RateLimiter, SearchStuck, Skip, Transient,
                              route_of)
from tests.conftest import API, make_config

TOKEN_URL = "https://app.asana.com/-/oauth_token"


def client_for(clock, **overrides) -> AsanaClient:
    return AsanaClient(make_config(**overrides), backoff_factor=0.0, clock=clock, sleep=clock.sleep)


def page(data, offset=None):
    return {"data": data, "next_page": {"offset": offset, "path": "/x", "uri": "x"} if offset else None}


def query(call) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


@responses.activate
def test_pagination_follows_next_page_and_sends_limit(clock):
    responses.get(f"{API}/tags", json=page([{"gid": "1"}, {"gid": "2"}], "off1"))
    responses.get(f"{API}/tags", json=page([{"gid": "3"}], None))
    client = client_for(clock, page_size=2)
    records = list(client.paginate(client.listing("/tags", {"workspace": "9"})))
    assert [r["gid"] for r in records] == ["1", "2", "3"]
    assert query(responses.calls[0]) == {"workspace": "9", "limit": "2"}
    assert query(responses.calls[1])["offset"] == "off1"


@responses.activate
def test_repeated_offset_stops_the_loop(clock):
    responses.get(f"{API}/tags", json=page([{"gid": "1"}], "same"))
    responses.get(f"{API}/tags", json=page([{"gid": "2"}], "same"))
    client = client_for(clock)
    with pytest.raises(Fatal, match="same offset twice"):
        list(client.paginate(client.listing("/tags", {})))


@responses.activate
def test_unpaginated_endpoint_sends_no_limit(clock):
    responses.get(f"{API}/teams/5/users", json={"data": [{"gid": "1"}]})
    client = client_for(clock)
    assert [r["gid"] for r in client.paginate(client.listing("/teams/5/users", {}, paginated=False))] == ["1"]
    assert "limit" not in query(responses.calls[0])


@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"errors": [{"message": "Server Error", "phrase": "6 sad squid"}]}},
    {"status": 502}, {"status": 503}, {"status": 504},
    {"body": requests.ConnectionError("refused")},
    {"body": requests.ReadTimeout("slow")},
    {"status": 200, "body": '{"data": [ {"gid": '},  # truncated body
    {"status": 200, "body": "<html>gateway</html>"},
])
@responses.activate
def test_transient_failures_are_retried(clock, failure):
    responses.get(f"{API}/workspaces", **failure)
    responses.get(f"{API}/workspaces", json={"data": [{"gid": "1"}]})
    assert client_for(clock).get("/workspaces")["data"] == [{"gid": "1"}]
    assert len(responses.calls) == 2


@responses.activate
def test_retries_are_bounded(clock):
    responses.get(f"{API}/workspaces", status=503)
    with pytest.raises(Transient, match="503"):
        client_for(clock, max_retries=4).get("/workspaces")
    assert len(responses.calls) == 4


@responses.activate
def test_retry_after_is_honoured_exactly(clock):
    responses.get(f"{API}/workspaces", status=429, headers={"Retry-After": "7"},
                  json={"errors": [{"message": "You've made too many requests"}]})
    responses.get(f"{API}/workspaces", json={"data": []})
    client = client_for(clock)
    start = clock.now
    client.get("/workspaces")
    waited = clock.now - start
    assert 7.0 <= waited < 7.3
    assert client.rate_limited["GET /workspaces"] == 1


@responses.activate
def test_huge_retry_after_is_capped(clock):
    responses.get(f"{API}/workspaces", status=429, headers={"Retry-After": "100000"})
    responses.get(f"{API}/workspaces", json={"data": []})
    client = client_for(clock)
    start = clock.now
    client.get("/workspaces")
    assert 120 <= clock.now - start < 121


@responses.activate
def test_missing_retry_after_backs_off_exponentially(clock):
    for _ in range(3):
        responses.get(f"{API}/workspaces", status=429)
    responses.get(f"{API}/workspaces", json={"data": []})
    client = client_for(clock)
    start = clock.now
    client.get("/workspaces")
    assert 1 + 2 + 4 <= clock.now - start < 8


def test_a_429_pauses_every_worker(clock):
    limiter = RateLimiter(per_minute=60000, max_in_flight=5, clock=clock, sleep=clock.sleep)
    limiter.pause(3.0)
    start = clock.now
    limiter.acquire()  # any worker, not just the one that saw the 429
    assert clock.now - start >= 3.0


def test_rate_limiter_keeps_under_requests_per_minute(clock):
    limiter = RateLimiter(per_minute=150, max_in_flight=50, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(300):
        limiter.acquire()
        limiter.release()
    # 300 requests at 150/min take at least ~two minutes minus the small initial burst
    assert clock.now - start >= 120 - 60 * limiter.burst / 150


@pytest.mark.parametrize("status", [402, 403, 404])
@responses.activate
def test_payment_forbidden_and_missing_are_skips(clock, status):
    responses.get(f"{API}/portfolios", status=status, json={"errors": [{"message": "nope"}]})
    with pytest.raises(Skip) as info:
        client_for(clock).get("/portfolios")
    assert info.value.status == status and "nope" in str(info.value)
    assert len(responses.calls) == 1  # not retried


@responses.activate
def test_other_4xx_is_fatal_with_asanas_message(clock):
    responses.get(f"{API}/tasks", status=400, json={"errors": [{"message": "project: Missing input"}]})
    with pytest.raises(Fatal, match="project: Missing input"):
        client_for(clock).get("/tasks")


@responses.activate
def test_expired_offset_restarts_the_listing_without_duplicates(clock):
    responses.get(f"{API}/tasks", json=page([{"gid": "1"}, {"gid": "2"}], "old"))
    responses.get(f"{API}/tasks", status=400,
                  json={"errors": [{"message": "offset: Your pagination token has expired."}]})
    responses.get(f"{API}/tasks", json=page([{"gid": "1"}, {"gid": "2"}], "new"))
    responses.get(f"{API}/tasks", json=page([{"gid": "3"}]))
    client = client_for(clock)
    gids = [r["gid"] for r in client.paginate(client.listing("/tasks", {"project": "1"}))]
    assert gids == ["1", "2", "3"]
    assert "offset" not in query(responses.calls[2])


@responses.activate
def test_pat_rejected_is_fatal(clock):
    responses.get(f"{API}/users/me", status=401, json={"errors": [{"message": "Not Authorized"}]})
    with pytest.raises(AuthRejected):
        client_for(clock).get("/users/me")


@responses.activate
def test_oauth_token_fetched_then_refreshed_on_401(clock):
    responses.post(TOKEN_URL, json={"access_token": "access-1", "token_type": "bearer", "expires_in": 3600})
    responses.post(TOKEN_URL, json={"access_token": "access-2", "token_type": "bearer", "expires_in": 3600})
    responses.get(f"{API}/workspaces", json={"data": []})
    responses.get(f"{API}/workspaces", status=401,
                  json={"errors": [{"message": "The bearer token has expired. Please refresh."}]})
    responses.get(f"{API}/workspaces", json={"data": [{"gid": "1"}]})
    client = client_for(clock, access_token=None, client_id="cid", client_secret="csecret-XYZ",
                        refresh_token="rtoken-XYZ")
    client.get("/workspaces")
    assert client.get("/workspaces")["data"] == [{"gid": "1"}]
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 2
    form = parse_qs(posts[0].request.body)
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["rtoken-XYZ"]
    gets = [c for c in responses.calls if c.request.method == "GET"]
    assert gets[0].request.headers["Authorization"] == "Bearer access-1"
    assert gets[2].request.headers["Authorization"] == "Bearer access-2"


@responses.activate
def test_oauth_refused_refresh_is_fatal_and_leaks_nothing(clock, caplog):
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant",
                                                "error_description": "refresh token rtoken-XYZ revoked"})
    client = client_for(clock, access_token=None, client_id="cid", client_secret="csecret-XYZ",
                        refresh_token="rtoken-XYZ")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthRejected) as info:
        client.get("/workspaces")
    assert "invalid_grant" in str(info.value)
    for text in (str(info.value), caplog.text):
        assert "rtoken-XYZ" not in text and "csecret-XYZ" not in text


@responses.activate
def test_secrets_never_in_urls_or_logs(clock, caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(f"{API}/workspaces", status=503)
    responses.get(f"{API}/workspaces", json={"data": []})
    client_for(clock).get("/workspaces")
    assert all("pat-SECRET-123" not in c.request.url for c in responses.calls)
    assert responses.calls[1].request.headers["Authorization"] == "Bearer pat-SECRET-123"
    assert "pat-SECRET-123" not in caplog.text
    assert "pat-SECRET-123" not in repr(client_for(clock).config)


def test_route_names_hide_gids():
    assert route_of("/tasks/1234/stories") == "GET /tasks/{gid}/stories"
    assert route_of("/users/me") == "GET /users/{gid}"


@responses.activate
def test_search_pages_by_modified_at_and_reports_ties_it_cannot_pass(clock):
    def task(gid, at):
        return {"gid": gid, "modified_at": at}
    responses.get(f"{API}/workspaces/1/tasks/search", json={"data": [task("1", "2026-01-01T00:00:00.000Z"),
                                                                     task("2", "2026-01-01T00:00:01.000Z")]})
    responses.get(f"{API}/workspaces/1/tasks/search", json={"data": [task("2", "2026-01-01T00:00:01.000Z"),
                                                                     task("3", "2026-01-01T00:00:02.000Z")]})
    responses.get(f"{API}/workspaces/1/tasks/search", json={"data": [task("3", "2026-01-01T00:00:02.000Z")]})
    client = client_for(clock, page_size=2)
    pages = client.search("/workspaces/1/tasks/search", {}, "modified_at", "2025-12-31T00:00:00.000Z")
    assert [r["gid"] for r in client.paginate(pages)] == ["1", "2", "3"]
    assert query(responses.calls[1])["modified_at.after"] == "2026-01-01T00:00:00.999Z"  # 1 ms back: ties
    responses.reset()
    tied = [task(str(i), "2026-01-01T00:00:00.000Z") for i in range(2)]
    responses.get(f"{API}/workspaces/1/tasks/search", json={"data": tied})
    with pytest.raises(SearchStuck):
        list(client.paginate(client.search("/workspaces/1/tasks/search", {}, "modified_at", "2025-12-31T00:00:00.000Z")))


@responses.activate
def test_events_without_a_token_hand_over_the_412s_token_and_ask_for_a_full_read(clock):
    responses.get(f"{API}/events", status=412, json={"errors": [{"message": "Sync token invalid or too old."}],
                                                      "sync": "fresh:0"})
    client = client_for(clock)
    events = client.events("77", None)
    assert events.fetch_next() == [] and events.done and events.expired and events.sync == "fresh:0"
    assert query(responses.calls[0]) == {"resource": "77"}


@responses.activate
def test_events_follow_has_more_with_each_new_token(clock):
    first = [{"action": "changed", "resource": {"gid": "1", "resource_type": "task"}}]
    responses.get(f"{API}/events", json={"data": first, "sync": "t2", "has_more": True})
    responses.get(f"{API}/events", json={"data": [], "sync": "t3", "has_more": False})
    client = client_for(clock)
    events = client.events("77", "t1")
    got = list(client.paginate(events))
    assert got == first and events.sync == "t3" and not events.expired
    assert [query(c)["sync"] for c in responses.calls] == ["t1", "t2"]


@responses.activate
def test_a_412_without_a_new_token_asks_for_a_full_read_with_no_token_to_keep(clock, caplog):
    responses.get(f"{API}/events", status=412, json={"errors": [{"message": "nope"}]})
    client = client_for(clock)
    events = client.events("77", "t1")
    assert events.fetch_next() == [] and events.done and events.expired and events.sync is None
    assert "without a new sync token" in caplog.text


@pytest.mark.parametrize("message", [
    "The pagination token has expired.",  # developers.asana.com/docs/pagination
    "Offset is invalid or has expired",
    "offset: This offset is no longer valid.",
    "Invalid pagination token",
])
@responses.activate
def test_an_expired_offset_is_recognised_by_more_than_one_phrase(clock, message):
    responses.get(f"{API}/tags", json=page([{"gid": "1"}], "off1"))
    responses.get(f"{API}/tags", status=400, json={"errors": [{"message": message}]})
    responses.get(f"{API}/tags", json=page([{"gid": "1"}, {"gid": "2"}], None))
    client = client_for(clock)
    assert [r["gid"] for r in client.paginate(client.listing("/tags", {}))] == ["1", "2"]


@responses.activate
def test_another_400_is_not_taken_for_an_expired_offset(clock):
    responses.get(f"{API}/tags", status=400, json={"errors": [{"message": "workspace: Not a valid workspace."}]})
    with pytest.raises(Fatal, match="Not a valid workspace"):
        client_for(clock).get("/tags")


@pytest.mark.parametrize("location", ["http://app.asana.com/api/1.0/workspaces",
                                      "https://app.asana.com:8443/api/1.0/workspaces",
                                      "https://evil.example.com/api/1.0/workspaces"])
@responses.activate
def test_a_redirect_off_api_urls_scheme_host_or_port_is_refused(clock, location):
    responses.get(f"{API}/workspaces", status=302, headers={"Location": location})
    with pytest.raises(Fatal, match="never follows a redirect"):
        client_for(clock).get("/workspaces")
    assert len(responses.calls) == 1


@responses.activate
def test_numeric_gids_in_a_listing_are_kept_apart(clock):
    responses.get(f"{API}/tags", json=page([{"gid": 1}, {"gid": "1"}, {"gid": 2}], None))
    client = client_for(clock)
    assert [r["gid"] for r in client.paginate(client.listing("/tags", {}))] == [1, 2]  # 1 and "1" are one gid


def test_asana_times_always_have_four_digit_years():
    from tap_asana.client import format_asana_time
    assert format_asana_time(dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)) == "0001-01-01T00:00:00.000Z"
    assert format_asana_time(dt.datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)) \
        == "2026-05-01T10:00:00.123Z"


@responses.activate
def test_without_a_date_header_the_run_starts_on_the_local_clock(clock):
    responses.get(f"{API}/users/me", json={"data": {"gid": "1"}}, headers={})
    client = client_for(clock)
    client.get("/users/me")
    assert abs(client.run_start() - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)
