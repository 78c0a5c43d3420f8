"""The server's knobs: load, limits, faults, credentials. One dataclass, so that the
constructor keywords, the CLI flags and `GET /_control/config` all derive from it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict


#: What a plan makes of the two workspaces (a premium organization, a free plain workspace).
PLANS = ("mixed", "premium", "free", "enterprise")


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class Options:
    latency_ms: float = _opt(0, "fixed latency added to every API response (ms)")
    jitter_ms: float = _opt(0, "extra latency drawn uniformly from 0..jitter_ms (ms)")
    rpm: int = _opt(0, "requests per minute per token, 0 = unlimited (Asana: 150 free, 1500 paid)")
    max_concurrent: int = _opt(50, "GET requests in flight per token before 429 (Asana: 50)")
    search_rpm: int = _opt(60, "search requests per minute per token (Asana: 60)")
    search_lag_s: float = _opt(0.0, "search sees each task as it was this many seconds ago on the fake's clock "
                                    "(Asana's index lags writes by 10-60 s)")
    fault_500: float = _opt(0.0, "fraction of API requests answered 500 with an error phrase")
    fault_503: float = _opt(0.0, "fraction of API requests answered 503")
    fault_429: float = _opt(0.0, "fraction of API requests answered a spurious 429, Retry-After 1")
    fault_slow: float = _opt(0.0, "fraction of API requests held slow_seconds before the answer")
    slow_seconds: float = _opt(30.0, "how long a slow request is held (s)")
    fault_truncate: float = _opt(0.0, "fraction of API responses cut in half after full headers")
    fault_drop: float = _opt(0.0, "fraction of API requests whose connection is closed unanswered")
    fault_oauth: bool = _opt(False, "let faults hit the OAuth token endpoint too")
    offset_ttl: float = _opt(900.0, "lifetime of a pagination offset (s); Asana: 900")
    expire_offset_every: int = _opt(0, "answer every Nth request carrying an offset 400 expired, once per listing; 0 = off")
    token_ttl: float = _opt(3600.0, "lifetime of an OAuth access token (s); Asana: 3600")
    sync_ttl: float = _opt(86400.0, "lifetime of an /events sync token (s); Asana: 86400")
    plan: str = _opt("mixed", "mixed: a premium organization beside a free workspace; premium: every workspace "
                              "premium; free: every workspace free (402 on paid features); enterprise: like "
                              "premium, the organization on Enterprise+ (workspace events)")
    free_workspaces: bool = _opt(False, "treat every workspace as free: the same as plan free")
    forbidden_projects: int = _opt(0, "the first N non-archived projects answer 403 on tasks and sections")
    vanished_tasks: int = _opt(0, "N listed tasks answer 404 on their stories, subtasks and record")
    bubble_subtask_changes: bool = _opt(True, "a subtask's field change reaches its ancestors' and their "
                                              "projects' event streams (false: only its own)")
    strict_contract: bool = _opt(True, "answer 400 to a request that breaks Asana's contract (a path that is no "
                                       "route, an undefined parameter or opt_fields path, a required parameter "
                                       "missing); false: serve it as Asana would. Recorded either way")
    max_unpaginated: int = _opt(1000, "results allowed without `limit` before the 'too large' 400")
    pat: str = _opt("fake-pat-0123456789", "the personal access token that never expires")
    service_account_token: str = _opt("fake-service-account-0123456789",
                                      "the token of a service account of the organization (sees what me sees; "
                                      "all of a workspace's portfolios; workspace events on Enterprise+)")
    client_id: str = _opt("fake-client-id", "OAuth client id accepted by the token endpoint")
    client_secret: str = _opt("fake-client-secret-5eCr3t", "OAuth client secret")
    refresh_token: str = _opt("fake-refresh-token-R3fr3sh", "OAuth refresh token")

    def __post_init__(self) -> None:
        rates = [self.fault_500, self.fault_503, self.fault_429, self.fault_slow, self.fault_truncate,
                 self.fault_drop]
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must each lie in 0..1 and sum to at most 1")
        if self.offset_ttl <= 0 or self.token_ttl <= 0 or self.sync_ttl <= 0:
            raise ValueError("offset_ttl, token_ttl and sync_ttl must be positive")
        if self.search_lag_s < 0:
            raise ValueError("search_lag_s must be 0 or positive")
        if self.expire_offset_every < 0:
            raise ValueError("expire_offset_every must be 0 or positive")
        if self.plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        if self.free_workspaces and self.plan not in ("mixed", "free"):
            raise ValueError(f"free_workspaces contradicts plan {self.plan}")
        if self.free_workspaces:  # the older name of plan free
            self.plan = "free"
        if self.service_account_token == self.pat:
            raise ValueError("the service account's token must differ from the PAT")

    def as_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(Options))
