"""Hostile data and hostile servers: every case completes with every record or ends with one
CRITICAL line, exit 1, no traceback, never a hang."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import random
import re
import subprocess

import pytest

from tap_asana.client import AsanaClient, Fatal, Transient, Unreachable
from tap_asana.conform import BadRecord, Conformer
from tap_asana.writer import Output, TargetClosed, Writer
from tests.conftest import make_config
from tests.hostile import Hostile, http_date
from tests.tapkit import TAP_ENV, catalog_for, run_tap, tap_command

SEPARATORS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
POOL = (SEPARATORS + "\x00\x01\x1f\x7f\x80\x9f\ufeff\"\\/ aZ9é€中\u0301"
        + "\U0001F600\U0001F9D1\u200d\U0001F680")


def random_text(rng: random.Random) -> str:
    chars = []
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.2:
            chars.append(chr(rng.randint(0xD800, 0xDFFF)))  # a surrogate: lone, or half of a pair
        elif roll < 0.25:
            chars.append(chr(rng.randint(0xD800, 0xDBFF)) + chr(rng.randint(0xDC00, 0xDFFF)))  # a split pair
        else:
            chars.append(rng.choice(POOL))
    return "".join(chars)


def as_written(text: str) -> str:
    """What the output must carry for `text`: split pairs joined, lone surrogates as U+FFFD."""
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return re.sub("[\ud800-\udfff]", "\ufffd", joined)


def parse_lines(stdout: str) -> list:
    lines = stdout.splitlines()
    assert stdout.endswith("\n") and len(lines) == stdout.count("\n")  # no reader sees an extra line end
    return [json.loads(line) for line in lines]


def one_critical(run, words: str) -> str:
    assert run.returncode == 1, run.stderr
    critical = [line for line in run.stderr.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1, run.stderr
    assert words in critical[0], critical[0]
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    return critical[0]


def client_for(url: str, **overrides) -> AsanaClient:
    config = make_config(api_url=url, **{"max_retries": 2, **overrides})
    return AsanaClient(config, backoff_factor=0.0)


# --- output no string can break ---------------------------------------------------------------
def test_random_unicode_through_the_writer_gives_lines_every_reader_splits_and_parses():
    rng = random.Random(10)
    out = io.StringIO()
    writer = Writer(out)
    names = [random_text(rng) for _ in range(500)]
    for i, name in enumerate(names):
        writer.write({"type": "RECORD", "stream": "tasks", "record": {"gid": str(i), "name": name, name: 1}})
    text = out.getvalue()
    text.encode("utf-8")  # strict: no surrogate reaches the bytes
    messages = parse_lines(text)
    assert [m["record"]["name"] for m in messages] == [as_written(n) for n in names]
    assert [sorted(m["record"])[0] for m in messages if m["record"]["name"]] \
        == [sorted(["gid", "name", as_written(n)])[0] for n in names if n]
    for raw in set(SEPARATORS + "\x00\x7f\x85\ufeff") - {"\n"}:
        assert raw not in text
    assert text.count("\n") == len(names)


def test_a_lone_surrogate_becomes_u_fffd_with_one_warning_and_a_pair_is_joined(caplog):
    out = io.StringIO()
    writer = Writer(out)
    writer.write({"type": "RECORD", "stream": "tasks", "record": {"gid": "1", "name": "a\ud800b"}})
    writer.write({"type": "RECORD", "stream": "tasks", "record": {"gid": "2", "name": "\udfff"}})
    writer.write({"type": "RECORD", "stream": "tasks", "record": {"gid": "3", "name": "\ud83d\ude00"}})
    names = [m["record"]["name"] for m in parse_lines(out.getvalue())]
    assert names == ["a\ufffdb", "\ufffd", "\U0001F600"]
    assert writer.surrogates == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "tasks" in warnings[0].getMessage() and "gid 1" in warnings[0].getMessage()


def test_the_writer_turns_a_closed_pipe_into_one_error_and_output_counts_delivered_states():
    class Closed(io.StringIO):
        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    output = Output(io.StringIO())
    writer = Writer(output)
    writer.write({"type": "RECORD", "stream": "tasks", "record": {"gid": "1"}})
    assert output.states == 0
    writer.state({"bookmarks": {}})
    assert output.states == 1 and writer.states_written == 1
    with pytest.raises(TargetClosed):
        Writer(Output(Closed())).state({})


def test_a_full_sync_of_hostile_strings_sends_every_record_on_lines_any_reader_splits(tmp_path):
    rng = random.Random(11)
    users = [{"gid": str(100 + i), "name": random_text(rng), "email": random_text(rng), "resource_type": "user"}
             for i in range(60)]
    workspace = {"gid": "10", "name": random_text(rng) + "\ud800\u2028\x00", "resource_type": "workspace",
                 "is_organization": False}
    with Hostile() as h:
        h.asana(workspaces=[workspace])  # served as JSON escapes (\ud800, \u2028), as Asana sends them
        h.route("/api/1.0/users", h.json({"data": users, "next_page": None}))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["workspaces", "users"]), timeout=60)
    assert run.returncode == 0, run.stderr
    messages = parse_lines(run.stdout)
    got = {m["record"]["gid"]: m["record"] for m in messages if m["type"] == "RECORD"}
    assert got["10"]["name"] == as_written(workspace["name"])
    for user in users:
        assert got[user["gid"]]["name"] == as_written(user["name"])
        assert got[user["gid"]]["email"] == as_written(user["email"])
    assert messages[-1]["type"] == "STATE"


# --- requests go only where the config says -----------------------------------------------------
def test_a_redirect_to_another_host_is_refused_and_the_token_goes_nowhere_else():
    with Hostile() as h, Hostile() as elsewhere:
        elsewhere.asana()
        h.route("/api/1.0/users/me", h.redirect(elsewhere.api_url + "/users/me"))
        with pytest.raises(Fatal, match="never follows a redirect to another host") as info:
            client_for(h.api_url).get("/users/me")
        assert elsewhere.url in str(info.value)
        assert elsewhere.requests == []


def test_a_redirect_on_the_same_host_is_followed_a_few_hops_with_the_token():
    with Hostile() as h:
        h.route("/api/1.0/users/me", h.redirect("/api/1.0/users/me2", 301))
        h.route("/api/1.0/users/me2", h.json({"data": {"gid": "7"}}))
        assert client_for(h.api_url).get("/users/me")["data"]["gid"] == "7"
        assert [r[2] for r in h.requests] == ["Bearer pat-SECRET-123"] * 2
        h.route("/api/1.0/loop", h.redirect("/api/1.0/loop", 302))
        with pytest.raises(Fatal, match="redirected more than 3 times"):
            client_for(h.api_url).get("/loop")


def test_the_oauth_token_request_follows_no_redirect_and_sends_the_secret_nowhere_else():
    with Hostile() as h, Hostile() as elsewhere:
        elsewhere.route("/-/oauth_token", elsewhere.json({"access_token": "stolen"}), "POST")
        h.route("/-/oauth_token", h.redirect(elsewhere.url + "/-/oauth_token", 307), "POST")
        client = client_for(h.api_url, access_token=None, client_id="cid", client_secret="csecret-XYZ",
                            refresh_token="rtoken-XYZ", oauth_token_url=h.url + "/-/oauth_token")
        with pytest.raises(Fatal, match="never follows a redirect with the client secret"):
            client.get("/users/me")
        assert elsewhere.requests == [] and client.token is None


def test_a_redirect_via_the_cli_is_one_critical_and_no_record(tmp_path):
    with Hostile() as h, Hostile() as elsewhere:
        elsewhere.asana()
        h.route("/api/1.0/users/me", h.json({"data": {"gid": "1"}}))
        h.route("/api/1.0/workspaces", h.redirect(elsewhere.api_url + "/workspaces", 302))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["workspaces"]), timeout=60)
        assert elsewhere.requests == []
    one_critical(run, "never follows a redirect")
    assert run.records("workspaces") == []


# --- never a hang -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["trickle", "endless"])
def test_a_trickled_or_endless_body_is_cut_at_the_deadline_and_retried(kind):
    with Hostile() as h:
        answer = h.trickle(b'{"data": [' + b'{"gid": "1"},' * 200 + b'{"gid": "2"}]}', every=0.02) \
            if kind == "trickle" else h.endless()
        h.route("/api/1.0/workspaces", answer)
        with pytest.raises(Transient, match=r"still arriving after 0.3s \(request_timeout\)"):
            client_for(h.api_url, request_timeout=0.3).get("/workspaces")
        assert len(h.requests) == 2  # max_retries tries, each cut off


def test_a_trickled_body_ends_the_cli_run_with_one_critical(tmp_path):
    with Hostile() as h:
        h.asana()
        h.route("/api/1.0/workspaces", h.trickle(b'{"data": []}' + b" " * 500, every=0.02))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2,
                                 "request_timeout": 0.3}, catalog_for(["workspaces"]), timeout=60)
    line = one_critical(run, "request_timeout")
    assert "/workspaces" in line and "No STATE was written" in line


@pytest.mark.parametrize("records, words", [
    (lambda n: [], "new page offsets in a row without a record"),
    (lambda n: [{"gid": "1"}, {"gid": "2"}], "new page offsets in a row without a record"),
    (lambda n: [{"gid": str(n)}], "still had a next page after 50 pages (max_pages)"),
])
def test_a_listing_that_never_converges_stops_naming_its_url(records, words):
    with Hostile() as h:
        h.route("/api/1.0/tags", h.looping(records))
        client = client_for(h.api_url, max_pages=50)
        with pytest.raises(Fatal, match=re.escape(words)) as info:
            list(client.paginate(client.listing("/tags", {"workspace": "1"})))
        assert h.api_url + "/tags" in str(info.value)
        assert len(h.requests) <= 50


def test_a_looping_listing_ends_the_cli_run_with_one_critical(tmp_path):
    with Hostile() as h:
        h.asana()
        h.route("/api/1.0/users", h.looping(lambda n: []))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["users"]), timeout=60)
    one_critical(run, h.api_url + "/users")


# --- times ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("year", [2100, 2001])
def test_a_server_clock_far_off_is_not_trusted_alone(year, caplog):
    with Hostile() as h:
        h.route("/api/1.0/users/me", h.json({"data": {"gid": "1"}}, headers={"Date": http_date(year)}))
        client = client_for(h.api_url)
        client.get("/users/me")
    now = dt.datetime.now(dt.timezone.utc)
    start = client.run_start()
    assert start.year == (now.year if year == 2100 else 2001)  # the earlier of the two clocks
    assert "disagree" in caplog.text


def test_a_server_clock_that_agrees_is_used():
    with Hostile() as h:
        h.route("/api/1.0/users/me", h.json({"data": {"gid": "1"}}))  # http.server sends a true Date
        client = client_for(h.api_url)
        client.get("/users/me")
    assert abs(client.run_start() - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)


# --- malformed answers ----------------------------------------------------------------------------
@pytest.mark.parametrize("me, words", [
    ({"data": []}, "without an object with a gid"),
    ({"data": None}, "without an object with a gid"),
    ({"data": {"name": "x"}}, "without an object with a gid"),
])
def test_a_malformed_users_me_is_one_critical(tmp_path, me, words):
    with Hostile() as h:
        h.route("/api/1.0/users/me", h.json(me))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["workspaces"]), timeout=60)
    one_critical(run, words)


@pytest.mark.parametrize("workspaces, words", [
    ({"data": [{"name": "no gid"}]}, "without a usable gid"),
    ({"data": ["a string"]}, "without a usable gid"),
    ({"data": {"gid": "1"}}, "where a list of records belongs"),
])
def test_a_malformed_listing_is_one_critical_naming_the_url(tmp_path, workspaces, words):
    with Hostile() as h:
        h.asana()
        h.route("/api/1.0/workspaces", h.json(workspaces))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["workspaces"]), timeout=60)
    line = one_critical(run, words)
    assert h.api_url + "/workspaces" in line


def test_a_wrong_api_url_path_says_no_state_was_written(tmp_path):
    with Hostile() as h:  # every path: 404 "No matching route"
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.url + "/api/2.0", "max_retries": 2},
                      catalog_for(["workspaces"]), timeout=60)
    line = one_critical(run, "api_url does not lead to Asana's API")
    assert "No STATE was written" in line and "safe to resume" not in line


def test_conform_makes_gids_strings_with_one_warning_per_stream(caplog):
    conform = Conformer()
    records = [conform.record("tasks", {"gid": n, "modified_at": "2026-01-01T00:00:00.000Z"}) for n in (1, 2)]
    assert [r["gid"] for r in records] == ["1", "2"]
    assert conform.record("users", {"gid": 3})["gid"] == "3"
    assert caplog.text.count("as a number") == 2


@pytest.mark.parametrize("stream, record, words", [
    ("tasks", {"name": "x", "modified_at": "2026-01-01T00:00:00Z"}, "tasks record without a usable gid"),
    ("tasks", {"gid": "", "modified_at": "2026-01-01T00:00:00Z"}, "without a usable gid"),
    ("tasks", {"gid": "5", "modified_at": "last week"},
     "tasks record 5 with modified_at 'last week', where its OpenAPI description promises a string (date-time)"),
    ("stories", {"gid": "6", "created_at": 1700000000}, "stories record 6 with created_at 1700000000"),
])
def test_conform_refuses_what_it_cannot_fix_naming_stream_and_gid(stream, record, words):
    with pytest.raises(BadRecord, match=re.escape(words)):
        Conformer().record(stream, record)


def test_conform_sends_a_record_without_its_replication_key_with_one_warning_per_stream(caplog):
    conform = Conformer()
    assert conform.record("projects", {"gid": "1"}) == {"gid": "1"}
    assert conform.record("projects", {"gid": "2", "modified_at": None})["gid"] == "2"
    assert conform.record("stories", {"gid": "3"})["gid"] == "3"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert "projects record 1 without modified_at, which its OpenAPI description promises (a string (date-time))" \
        in warnings[0] and "stories record 3 without created_at" in warnings[1]


def test_a_project_without_modified_at_is_sent_with_one_warning_through_the_cli(tmp_path):
    with Hostile() as h:
        h.asana()
        h.route("/api/1.0/projects", h.json({"data": [{"gid": "21", "name": "no time"},
                                                       {"gid": "22", "name": "dated", "modified_at": None}],
                                              "next_page": None}))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["projects"]), timeout=60)
    assert run.returncode == 0, run.stderr
    assert sorted(r["gid"] for r in run.records("projects")) == ["21", "22"]
    warnings = [line for line in run.stderr.splitlines() if "without modified_at" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING") and "projects record 21" in warnings[0]
    assert run.final_state["bookmarks"]["projects"]["modified_at"]


@pytest.mark.parametrize("next_page, words", [
    ({"offset": {"token": "x"}}, "GET /projects answered next_page.offset as an object with keys token, where "
                                 "Asana's OpenAPI description (getProjects) promises a string"),
    ("page 2", "GET /projects answered next_page as a str, where Asana's OpenAPI description (getProjects) "
               "promises an object, or null"),
])
def test_a_malformed_next_page_is_one_critical_naming_route_and_field(tmp_path, next_page, words):
    with Hostile() as h:
        h.asana()
        h.route("/api/1.0/projects", h.json({"data": [{"gid": "21", "modified_at": "2026-01-01T00:00:00.000Z"}],
                                              "next_page": next_page}))
        run = run_tap(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                      catalog_for(["projects"]), timeout=60)
    line = one_critical(run, words)
    assert "bug in tap-asana" not in line


def test_conform_accepts_every_record_of_the_fake(fake_asana):
    from tap_asana.streams import STREAMS
    conform = Conformer()
    export = fake_asana.export()
    for stream, kind in [("tasks", "tasks"), ("stories", "stories"), ("tags", "tags"), ("projects", "projects"),
                         ("users", "users"), ("workspaces", "workspaces"), ("sections", "sections")]:
        for record in export[kind]:
            assert conform.record(stream, record)["gid"] == record["gid"]
    assert "tasks" in STREAMS and not conform.warned


# --- unreachable hosts ----------------------------------------------------------------------------
def test_a_host_that_does_not_resolve_fails_at_once_naming_host_and_cause():
    client = client_for("https://asana.invalid/api/1.0", max_retries=5)
    with pytest.raises(Unreachable, match=r"cannot reach https://asana.invalid \(DNS lookup failed"):
        client.get("/users/me")
    assert client.requests["GET /users/{gid}"] == 1


def test_tls_to_a_plain_http_server_fails_at_once_naming_host_and_cause():
    with Hostile() as h:
        url = h.api_url.replace("http://", "https://")
        with pytest.raises(Unreachable, match=r"cannot reach https://127.0.0.1:\d+ \(TLS failed"):
            client_for(url, max_retries=5).get("/users/me")


def test_a_refused_connection_on_the_first_request_fails_at_once_via_the_cli(tmp_path):
    with Hostile() as h:
        url = h.api_url
    run = run_tap(tmp_path, {"access_token": "pat", "api_url": url, "max_retries": 8},
                  catalog_for(["workspaces"]), timeout=60)
    line = one_critical(run, "connection refused")
    assert url.rsplit("/api", 1)[0] in line and "Retrying" not in run.stderr


def test_a_refused_connection_after_the_first_answer_is_retried():
    with Hostile() as h:
        h.asana()
        client = client_for(h.api_url, max_retries=2)
        client.get("/users/me")
    client.session.close()  # no kept-alive connection to the stopped server
    with pytest.raises(Transient, match="connection refused"):
        client.get("/workspaces")


# --- the target going away -------------------------------------------------------------------------
def test_a_target_that_closes_the_pipe_gets_one_critical_and_no_traceback(tmp_path):
    with Hostile() as h:
        h.asana()
        cmd = tap_command(tmp_path, {"access_token": "pat", "api_url": h.api_url, "max_retries": 2},
                          catalog_for(["workspaces"]))
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=TAP_ENV)
        proc.stdout.close()  # the target is gone before the tap writes a byte
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    assert proc.returncode == 1, stderr
    critical = [line for line in stderr.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1 and "closed the tap's output" in critical[0]
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_an_unreachable_oauth_token_endpoint_fails_at_once_naming_it():
    with Hostile() as h:
        url = h.url + "/-/oauth_token"
    client = client_for("https://app.asana.com/api/1.0", access_token=None, client_id="cid", client_secret="cs",
                        refresh_token="rt", oauth_token_url=url, max_retries=8)
    with pytest.raises(Unreachable, match=r"OAuth token endpoint http://127.0.0.1:\d+ \(connection refused"):
        client.get("/users/me")
