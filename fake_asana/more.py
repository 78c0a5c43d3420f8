"""More of Asana (issue 12): attachments, project/team/portfolio memberships, status
updates, goals and time tracking entries: their record factories, generation and export.
Their GET routes are in more_api.py and the mutation ops that add them in more_ops.py, so
that the core modules only register them.

Generation runs after the main data with a random stream of its own, so the data generated
before it keep their values; only tasks that get time tracked (`actual_time_minutes`),
tasks that get an attachment (its story) and the parents of status updates
(`current_status_update`) are touched. Field lists follow Asana's OpenAPI spec; see
`tap_asana/schemas/pending/SOURCES.md`.
"""
from __future__ import annotations

import random
import re
from typing import Any, Callable, Dict, List, Optional, Sequence

from .builder import DAY_MS, Builder
from .store import Ref, Rel, Store
from .timefmt import fmt_date, fmt_datetime, parse_ms

Record = Dict[str, Any]
HOUR_MS = 3_600_000
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


#: Generation rates. Each count scales with the preset through the objects it hangs off.
TASK_ATTACHMENT_SHARE = 0.2  # tasks and subtasks with 1-2 attachments
PROJECT_ATTACHMENT_SHARE = 0.3  # projects with a "Key resources" file
TIME_TRACKED_SHARE = 0.25  # tasks and subtasks in premium workspaces with 1-3 entries
TEAM_PROJECT_TEAM_MEMBER_SHARE = 0.3  # team projects whose team is a member too
EXTRA_STATUS_UPDATES = (0, 3)  # older status updates of a project that has a current one
GOALS_PER_TEAM = 2  # plus GOALS_PER_TEAM workspace-level goals per organization

ATTACHMENT_HOSTS = (("asana", 0.7), ("gdrive", 0.1), ("dropbox", 0.06), ("box", 0.04), ("external", 0.05),
                    ("vimeo", 0.03), ("onedrive", 0.02))
ATTACHMENT_NAMES = ("spec.pdf", "mockup.png", "budget.xlsx", "notes.docx", "screenshot.png", "contract.pdf",
                    "roadmap.key", "export.csv", "logo.svg", "walkthrough.mp4")
STATUS_OF_COLOR = {"green": "on_track", "yellow": "at_risk", "red": "off_track", "blue": "on_hold",
                   "complete": "complete"}
PROJECT_STATUS_TYPES = ("on_track", "at_risk", "off_track", "on_hold", "complete")
GOAL_STATUS_TYPES = ("on_track", "at_risk", "off_track", "achieved", "partial", "missed", "dropped")
GOAL_STATUS = {"on_track": "green", "at_risk": "yellow", "off_track": "red", "achieved": "achieved",
               "partial": "partial", "missed": "missed", "dropped": "dropped"}
GOAL_NAMES = ("Grow revenue", "Cut churn", "Ship v2", "Hire the team", "Improve NPS", "Reduce costs",
              "Expand to EMEA", "Raise uptime", "Launch partner program", "Halve support backlog")
TIME_CATEGORIES = (("Development", "blue"), ("Design", "purple"), ("Meetings", "yellow"), ("Support", "green"))
ENTRY_APPROVAL = (("DRAFT", 0.5), ("SUBMITTED", 0.2), ("APPROVED", 0.25), ("REJECTED", 0.05))
BILLABLE = (("billable", 0.5), ("nonBillable", 0.3), ("notApplicable", 0.2))


def premium_workspaces(store: Store) -> List[str]:
    return [w["gid"] for w in store.of_type("workspace") if w["_premium"]]


class MoreBuilder:
    """Record factories shared by the generation and the mutation ops."""

    def __init__(self, store: Store, b: Builder) -> None:
        self.store, self.b, self.rng = store, b, b.rng
        self._categories: Optional[List[Record]] = None

    # --- memberships ------------------------------------------------------------------------------
    def project_membership(self, project: Record, member: str, access_level: str) -> Record:
        is_user = self.store.records[member]["resource_type"] == "user"
        record = {"gid": self.store.new_gid(), "resource_type": "membership",
                  "resource_subtype": "project_membership", "parent": Ref(project["gid"]), "member": Ref(member),
                  "access_level": access_level, "user": Ref(member) if is_user else None,
                  "project": Ref(project["gid"]),
                  "write_access": "full_write" if access_level in ("admin", "editor") else "comment_only"}
        self.store.add(record)
        self.store.link(Rel.PROJECT_MEMBERSHIPS, project["gid"], record["gid"])
        return record

    def team_membership(self, team: str, user: str, is_admin: bool, is_guest: bool = False) -> Record:
        record = {"gid": self.store.new_gid(), "resource_type": "team_membership", "user": Ref(user),
                  "team": Ref(team), "is_guest": is_guest, "is_limited_access": False, "is_admin": is_admin}
        self.store.add(record)
        self.store.link(Rel.TEAM_MEMBERSHIPS, team, record["gid"])
        return record

    def portfolio_membership(self, portfolio: Record, user: str, access_level: str) -> Record:
        record = {"gid": self.store.new_gid(), "resource_type": "portfolio_membership",
                  "resource_subtype": "portfolio_membership", "parent": Ref(portfolio["gid"]), "member": Ref(user),
                  "access_level": access_level, "portfolio": Ref(portfolio["gid"]), "user": Ref(user)}
        self.store.add(record)
        self.store.link(Rel.PORTFOLIO_MEMBERSHIPS, portfolio["gid"], record["gid"])
        return record

    # --- status updates ---------------------------------------------------------------------------
    def status_update(self, parent: Record, created: int, author: str, status_type: str, title: str,
                      gid: Optional[str] = None) -> Record:
        """Becomes the parent's `current_status_update` unless the parent has a newer one."""
        text = f"{title}. Next review in two weeks."
        record: Record = {"gid": gid or self.store.new_gid(), "resource_type": "status_update", "title": title,
                          "resource_subtype": f"{parent['resource_type']}_status_update",
                          "status_type": status_type, "text": text, "html_text": self.b.html_of(text),
                          "author": Ref(author), "created_at": fmt_datetime(created), "created_by": Ref(author),
                          "modified_at": fmt_datetime(created), "parent": Ref(parent["gid"]),
                          **self.b.likes(parent["workspace"].gid), "reaction_summary": []}
        self.store.add(record)
        self.store.link(Rel.STATUS_UPDATES, parent["gid"], record["gid"])
        current = parent.get("current_status_update")
        newest = self.store.records.get(current.gid) if isinstance(current, Ref) else None
        if newest is None or newest["created_at"] <= record["created_at"]:
            parent["current_status_update"] = Ref(record["gid"])
        return record

    # --- goals ------------------------------------------------------------------------------------
    def time_period(self, start: int) -> Record:
        day = fmt_date(start)
        year, month = int(day[:4]), int(day[5:7])
        quarter = (month - 1) // 3 + 1
        start_on = f"{year}-{(quarter - 1) * 3 + 1:02d}-01"
        for existing in self.store.of_type("time_period"):  # one per quarter, shared by its goals
            if existing["start_on"] == start_on:
                return existing
        end_month = quarter * 3
        end_day = {3: 31, 6: 30, 9: 30, 12: 31}[end_month]
        record = {"gid": self.store.new_gid(), "resource_type": "time_period", "period": f"Q{quarter}",
                  "display_name": f"Q{quarter} FY{year % 100:02d}",
                  "start_on": start_on, "end_on": f"{year}-{end_month:02d}-{end_day}", "parent": None}
        return self.store.add(record)

    def goal(self, workspace: str, team: Optional[str], at: int, name: str,
             supports: Sequence[str] = ()) -> Record:
        rng, users = self.rng, self.b.members(workspace)
        owner = rng.choice(users)
        period = self.time_period(at)
        target = float(rng.choice((10, 50, 100, 1000)))
        unit = rng.choice(("none", "percentage", "currency"))
        notes = f"{name}: measured every quarter."
        record: Record = {
            "gid": self.store.new_gid(), "resource_type": "goal", "name": name,
            "html_notes": self.b.html_of(notes), "notes": notes,
            "due_on": period["end_on"], "start_on": period["start_on"] if rng.random() < 0.5 else None,
            "is_workspace_level": team is None, **{k: v for k, v in self.b.likes(workspace).items()
                                                   if k in ("liked", "likes", "num_likes")},
            "team": Ref(team) if team else None, "workspace": Ref(workspace), "time_period": Ref(period["gid"]),
            "metric": {"gid": self.store.new_gid(), "resource_type": "goal_metric", "resource_subtype": "number",
                       "precision": 0 if unit != "currency" else 2, "unit": unit,
                       "currency_code": "EUR" if unit == "currency" else None,
                       "initial_number_value": 0.0, "target_number_value": target,
                       "current_number_value": round(target * rng.random(), 0),
                       "current_display_value": None, "progress_source": "manual",
                       "is_custom_weight": False, "can_manage": True},
            "owner": Ref(owner), "current_status_update": None, "status": None,
            "followers": [Ref(u) for u in dict.fromkeys([owner] + rng.sample(users, min(2, len(users))))],
            "custom_field_settings": [], "custom_fields": [],
            "default_access_level": rng.choice(("viewer", "commenter", "editor")),
            "privacy_setting": rng.choice(("public_to_workspace", "private")),
            "_supports": list(supports),
        }
        record["metric"]["current_display_value"] = str(int(record["metric"]["current_number_value"]))
        self.store.add(record)
        self.store.link(Rel.WORKSPACE_GOALS, workspace, record["gid"])
        return record

    def goal_status(self, goal: Record, created: int) -> Record:
        status_type = self.rng.choice(GOAL_STATUS_TYPES)
        update = self.status_update(goal, created, goal["owner"].gid, status_type,
                                    status_type.replace("_", " ").capitalize())
        goal["status"] = GOAL_STATUS[status_type]
        return update

    # --- attachments and time tracking ------------------------------------------------------------
    def attachment(self, parent: Record, created: int, name: Optional[str] = None,
                   host: Optional[str] = None) -> Record:
        rng = self.rng
        host = host or self.b.weighted(ATTACHMENT_HOSTS)
        name = name or rng.choice(ATTACHMENT_NAMES)
        gid = self.store.new_gid()
        # download_url "may only be valid for two minutes" (asana-api.md 2.12): these are never valid.
        download = None if host in ("box", "vimeo") else \
            f"https://attachments.fake-asana.invalid/{gid}/{name}?expires=120"
        record: Record = {"gid": gid, "resource_type": "attachment", "name": name, "resource_subtype": host,
                          "host": host, "created_at": fmt_datetime(created), "download_url": download,
                          "permanent_url": f"https://app.asana.com/app/asana/-/get_asset?asset_id={gid}",
                          "view_url": None if host == "box" else f"https://attachments.fake-asana.invalid/view/{gid}",
                          "parent": Ref(parent["gid"])}
        if host == "asana":
            record["size"] = rng.randint(2_000, 9_000_000)  # only for files Asana hosts
        if host in ("external", "gdrive"):
            record["connected_to_app"] = False
        self.store.add(record)
        self.store.link(Rel.ATTACHMENTS, parent["gid"], gid)
        return record

    def attachment_story(self, task: Record, attachment: Record, author: str) -> Record:
        """Asana adds a story when a file is attached, which bumps the task (asana-api.md 2.5)."""
        return self.b._story(task, parse_ms(attachment["created_at"]), author, "attachment_added",
                             f"attached {attachment['name']}", {})

    def categories(self) -> List[Record]:
        if self._categories is None:
            self._categories = [{"gid": self.store.new_gid(), "resource_type": "time_tracking_category",
                                 "name": name, "color": color} for name, color in TIME_CATEGORIES]
        return self._categories

    def time_entry(self, task: Record, created: int, entered_on: str, duration: int, author: str) -> Record:
        rng = self.rng
        projects = [p.gid for p in task["projects"]]
        record: Record = {
            "gid": self.store.new_gid(), "resource_type": "time_tracking_entry", "duration_minutes": duration,
            "entered_on": entered_on, "attributable_to": Ref(projects[0]) if projects else None,
            "created_by": Ref(author), "categories": rng.sample(self.categories(), rng.randint(0, 1)),
            "created_at": fmt_datetime(created), "task": Ref(task["gid"]),
            "description": rng.choice(("", "Pairing session", "Review and fixes", "Call with the vendor")),
            "approval_status": self.b.weighted(ENTRY_APPROVAL), "billable_status": self.b.weighted(BILLABLE),
        }
        self.store.add(record)
        self.store.link(Rel.TASK_TIME_ENTRIES, task["gid"], record["gid"])
        task["actual_time_minutes"] = (task["actual_time_minutes"] or 0) + duration
        return record


# --- generation ------------------------------------------------------------------------------------
def generate(store: Store) -> None:
    """Adds the new resources to a generated store. Deterministic from the seed."""
    rng = random.Random(f"more:{store.seed}")
    _Generation(store, MoreBuilder(store, Builder(store, rng))).run()


class _Generation:
    def __init__(self, store: Store, mb: MoreBuilder) -> None:
        self.store, self.mb, self.b, self.rng = store, mb, mb.b, mb.rng
        self.end = store.now_ms - HOUR_MS

    def between(self, low: int, high: int) -> int:
        return self.rng.randint(low, max(low, high))

    def run(self) -> None:
        projects = self.store.of_type("project")
        self.project_memberships(projects)
        self.team_memberships()
        self.portfolio_memberships()
        self.project_status_updates(projects)
        self.portfolio_status_updates()
        self.goals()
        tasks = self.store.of_type("task")
        self.attachments(tasks, projects)
        self.time_entries(tasks)

    def project_memberships(self, projects: List[Record]) -> None:
        for project in projects:
            for user in [m.gid for m in project["members"]]:
                level = "admin" if user == project["owner"].gid else self.b.weighted(
                    (("editor", 0.6), ("commenter", 0.25), ("viewer", 0.15)))
                self.mb.project_membership(project, user, level)
            if project["team"] and self.rng.random() < TEAM_PROJECT_TEAM_MEMBER_SHARE:
                self.mb.project_membership(project, project["team"].gid, "editor")

    def team_memberships(self) -> None:
        for team in self.store.of_type("team"):
            for user in self.store.related(Rel.TEAM_USERS, team["gid"]):
                admin = user == self.store.me or self.rng.random() < 0.15
                self.mb.team_membership(team["gid"], user, admin, is_guest=not admin and self.rng.random() < 0.05)

    def portfolio_memberships(self) -> None:
        for portfolio in self.store.of_type("portfolio"):
            for user in [m.gid for m in portfolio["members"]]:
                level = "admin" if user == portfolio["owner"].gid else self.rng.choice(("editor", "viewer"))
                self.mb.portfolio_membership(portfolio, user, level)

    def project_status_updates(self, projects: List[Record]) -> None:
        """A project with a current status gets it as a status update (same gid, so the
        project record is unchanged), plus a few older ones."""
        for project in projects:
            current, legacy = project["current_status_update"], project["current_status"]
            if not isinstance(current, dict) or not legacy:
                continue
            latest = parse_ms(legacy["created_at"])
            for _ in range(self.rng.randint(*EXTRA_STATUS_UPDATES)):
                title = self.rng.choice(("Kickoff done", "On track", "At risk: vendor delay", "Wrapping up"))
                self.mb.status_update(project, self.between(parse_ms(project["created_at"]), latest - 1),
                                      self.rng.choice([m.gid for m in project["members"]]),
                                      self.rng.choice(PROJECT_STATUS_TYPES), title)
            project["current_status_update"] = None
            self.mb.status_update(project, latest, legacy["author"].gid, STATUS_OF_COLOR[legacy["color"]],
                                  current["title"], gid=current["gid"])

    def portfolio_status_updates(self) -> None:
        for portfolio in self.store.of_type("portfolio"):
            created = parse_ms(portfolio["created_at"])
            for _ in range(self.rng.randint(0, 2)):
                status = self.rng.choice(PROJECT_STATUS_TYPES)
                self.mb.status_update(portfolio, self.between(created, self.end), portfolio["owner"].gid, status,
                                      status.replace("_", " ").capitalize())

    def goals(self) -> None:
        names = iter(GOAL_NAMES * 100)
        for workspace in premium_workspaces(self.store):
            if not self.store.records[workspace]["is_organization"]:
                continue
            teams = self.store.related(Rel.WORKSPACE_TEAMS, workspace)
            projects = [p["gid"] for p in self.store.related_records(Rel.WORKSPACE_PROJECTS, workspace)]
            owners = [None] * GOALS_PER_TEAM + [t for t in teams for _ in range(GOALS_PER_TEAM)]
            for team in owners:
                at = self.between(self.end - 400 * DAY_MS, self.end)
                supports = self.rng.sample(projects, min(len(projects), self.rng.randint(0, 2)))
                goal = self.mb.goal(workspace, team, at, next(names), supports)
                if self.rng.random() < 0.6:
                    self.mb.goal_status(goal, at)

    def attachments(self, tasks: List[Record], projects: List[Record]) -> None:
        for task in tasks:
            if self.rng.random() >= TASK_ATTACHMENT_SHARE:
                continue
            created, modified = parse_ms(task["created_at"]), parse_ms(task["modified_at"])
            for _ in range(self.rng.randint(1, 2)):
                attachment = self.mb.attachment(task, self.between(created, modified))
                self.mb.attachment_story(task, attachment, self.rng.choice(self.b.members(task["workspace"].gid)))
        for project in projects:
            if self.rng.random() < PROJECT_ATTACHMENT_SHARE:
                self.mb.attachment(project, self.between(parse_ms(project["created_at"]), self.end))

    def time_entries(self, tasks: List[Record]) -> None:
        premium = set(premium_workspaces(self.store))
        for task in tasks:
            if task["workspace"].gid not in premium or self.rng.random() >= TIME_TRACKED_SHARE:
                continue
            users = self.b.members(task["workspace"].gid)
            created = parse_ms(task["created_at"])
            for _ in range(self.rng.randint(1, 3)):
                logged = self.between(created, self.end)
                # Time is often logged days after the work: entered_on lies before created_at.
                entered = max(created, logged - self.rng.choice((0, 0, 1, 2, 7, 30)) * DAY_MS)
                self.mb.time_entry(task, logged, fmt_date(entered), self.rng.choice((15, 30, 45, 60, 90, 120, 240)),
                                   self.rng.choice(users))


# --- export ----------------------------------------------------------------------------------------
def export(store: Store, full: Callable[[Record], Dict[str, Any]]) -> Dict[str, Any]:
    """The new resources for `/_control/export`, every field, in gid order; those of deleted
    tasks are gone with them."""
    def every(resource_type: str, parent_key: Optional[str] = None) -> List[Dict[str, Any]]:
        records = store.of_type(resource_type)
        if parent_key:
            records = [r for r in records if r[parent_key].gid in store.records]
        return [full(r) for r in records]

    return {"attachments": every("attachment", "parent"), "project_memberships": every("membership"),
            "team_memberships": every("team_membership"), "portfolio_memberships": every("portfolio_membership"),
            "status_updates": every("status_update"), "goals": every("goal"),
            "time_tracking_entries": every("time_tracking_entry", "task")}
