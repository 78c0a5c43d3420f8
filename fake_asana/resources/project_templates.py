"""Project templates (`ProjectTemplateResponse`). Made after everything else, one from each
project generation marked as a template (`_template`): the projects made from it name it
(`created_from_template`) and some of the organization's portfolios list it
(`project_templates`). No route serves them here; records show them compact."""
from __future__ import annotations

from typing import Dict

from ..factory import Generation, Maker
from ..store import Record, Ref
from ..vocab import COLORS

PORTFOLIO_TEMPLATES_SHARE = 0.5  # of portfolios that list one or two of their workspace's templates
ROLES = ("Project lead", "Designer", "Engineer", "Reviewer")


def new_template(make: Maker, project: Record) -> Record:
    """A template of a project: its name, owner, team and color (a template's colors have no "none")."""
    rng, store = make.rng, make.store
    text = f"Start a {project['name']} in minutes: sections, tasks and due dates included."
    roles = rng.sample(ROLES, rng.randint(0, 2))
    record: Record = {
        "gid": store.new_gid(), "resource_type": "project_template", "name": project["name"],
        "description": text, "html_description": make.html_of(text), "owner": project["owner"],
        "public": project["public"], "color": project["color"] if project["color"] in COLORS else None,
        "requested_dates": [{"gid": "1", "name": "Start date", "description": "When the project starts"}],
        "requested_roles": [{"gid": store.new_gid(), "resource_type": "template_role", "name": role}
                            for role in roles],
        "_workspace": project["workspace"].gid,
    }
    if project.get("team"):  # a plain workspace's template has none: left out, it may not be null
        record["team"] = project["team"]
    return store.add(record)


def generate(gen: Generation) -> None:
    """A template per template project; the projects made from that project name the template
    instead; some portfolios list templates of their workspace."""
    store = gen.store
    made: Dict[str, Record] = {p["gid"]: new_template(gen.make, p) for p in store.of_type("project") if p["_template"]}
    for project in store.of_type("project"):
        source = project["created_from_template"]
        if source is not None and source.gid in made:
            project["created_from_template"] = Ref(made[source.gid]["gid"])
    for portfolio in store.of_type("portfolio"):
        own = [t["gid"] for t in made.values() if t["_workspace"] == portfolio["workspace"].gid]
        if own and gen.rng.random() < PORTFOLIO_TEMPLATES_SHARE:
            chosen = gen.rng.sample(own, min(len(own), gen.rng.randint(1, 2)))
            portfolio["project_templates"] = [Ref(g) for g in chosen]
