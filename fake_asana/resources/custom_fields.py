"""Custom fields (paid): the organization's field definitions, the value objects tasks,
projects and portfolios carry, and the settings that put a field on a project or
portfolio. Setting a task's value is a task change (tasks/changes.py)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..factory import Generation, Maker
from ..routing import Route
from ..serving import Children, One, Serving
from ..store import Record, Ref, Rel, Store
from ..timefmt import DATE, DAY_MS, HOUR_MS, fmt_date, fmt_datetime, parse_ms
from ..vocab import TAG_NAMES

DEFINITIONS = (  # (name, type, extra): one of every type Asana has for values
    ("Priority", "enum", {"options": (("High", "red", True), ("Medium", "yellow-orange", True),
                                      ("Low", "green", True), ("Someday", "cool-gray", False))}),
    ("Stage", "enum", {"options": (("Idea", "purple", True), ("Build", "blue", True), ("Live", "green", True))}),
    ("Estimate (h)", "number", {"precision": 1, "format": "none"}),
    ("Budget", "number", {"precision": 2, "format": "currency", "currency_code": "EUR"}),
    ("Ticket ID", "text", {}),
    ("Platforms", "multi_enum", {"options": (("iOS", "blue", True), ("Android", "green", True),
                                             ("Web", "purple", True), ("Desktop", "orange", True))}),
    ("Target date", "date", {}),
    ("Reviewer", "people", {}),
)
#: A field of people's profiles (`UserResponse.custom_fields`), made after everything else.
PROFILE_FIELD = ("Office", "enum", {"options": (("Berlin", "blue", True), ("Lisbon", "green", True),
                                               ("Remote", "cool-gray", True))})
PROFILE_SHARE = 0.25  # of the organization's users with an office on their profile
#: Where each type keeps its value in a value object.
VALUE_KEY = {"text": "text_value", "number": "number_value", "enum": "enum_value",
             "multi_enum": "multi_enum_values", "date": "date_value", "people": "people_value"}
#: `with_value(value=UNSET)`: draw a new value (None clears it).
UNSET = object()


# --- generated ---------------------------------------------------------------------------------------
def generate(gen: Generation, org: str) -> List[str]:
    """The organization's fields, in `DEFINITIONS` order."""
    return [definition(gen.store, org, name, kind, extra)["gid"] for name, kind, extra in DEFINITIONS]


def definition(store: Store, org: str, name: str, kind: str, extra: Dict[str, Any]) -> Record:
    gid = store.new_gid()
    record: Dict[str, Any] = {"gid": gid, "resource_type": "custom_field", "name": name, "type": kind,
                              "resource_subtype": kind, "representation_type": kind,
                              "description": f"{name}, shared across the organization."}
    if "options" in extra:
        record["enum_options"] = [
            {"gid": store.new_gid(), "resource_type": "enum_option", "name": option,
             "enabled": enabled, "color": color} for option, color, enabled in extra["options"]]
    if kind == "number":
        record.update(precision=extra["precision"], format=extra["format"],
                      currency_code=extra.get("currency_code"))
    record.update({"is_formula_field": False, "is_value_read_only": False,
                   "is_global_to_workspace": True, "has_notifications_enabled": True,
                   "asana_created_field": None, "custom_label": None, "custom_label_position": None,
                   "id_prefix": None, "created_by": Ref(store.me),
                   "privacy_setting": "public_with_guests", "default_access_level": "editor",
                   "_workspace": org})
    store.add(record)
    store.link(Rel.WORKSPACE_CUSTOM_FIELDS, org, gid)
    return record


def generate_profiles(gen: Generation, org: str) -> None:
    """The organization's profile field, and its value on some of its people's profiles."""
    field = definition(gen.store, org, *PROFILE_FIELD)
    for user in gen.store.related_records(Rel.WORKSPACE_USERS, org):
        if gen.rng.random() < PROFILE_SHARE:
            user["custom_fields"] = [value(gen.make, field["gid"], filled=True)]


# --- made --------------------------------------------------------------------------------------------
def value(make: Maker, field_gid: str, filled: Optional[bool] = None) -> Record:
    """A value object as Asana embeds it in tasks, projects and portfolios: the field's
    identity plus only the value keys of its type; drawn filled 70% of the time."""
    rng = make.rng
    field = make.store.records[field_gid]
    kind = field["resource_subtype"]
    filled = rng.random() < 0.7 if filled is None else filled
    out: Record = {
        "gid": field_gid, "resource_type": "custom_field", "name": field["name"], "type": kind,
        "resource_subtype": kind, "representation_type": kind, "enabled": True,
        "is_formula_field": False, "is_value_read_only": False, "display_value": None,
    }
    if kind == "text":
        text = rng.choice(TAG_NAMES).upper() + f"-{rng.randint(100, 999)}" if filled else None
        out.update(text_value=text, display_value=text)
    elif kind == "number":
        precision = field["precision"]
        number = round(rng.uniform(0, 500), precision) if filled else None
        out.update(precision=precision, number_value=number,
                   display_value=f"{number:.{precision}f}" if filled else None)
    elif kind in ("enum", "multi_enum"):
        out.update(_options_value(make, field, filled))
    elif kind == "date":
        day = make.store.now_ms - rng.randint(1, 400) * DAY_MS
        with_time = rng.random() < 0.3
        date_value = {"date": fmt_date(day)} if filled else None
        if date_value and with_time:  # `date_time` may not be null: a date without a time has none
            date_value["date_time"] = fmt_datetime(day - day % HOUR_MS)
        out.update(date_value=date_value, display_value=date_value["date"] if date_value else None)
    elif kind == "people":
        people = rng.sample(make.members(field["_workspace"]), rng.randint(1, 2)) if filled else []
        out.update(people_value=[Ref(p) for p in people],
                   display_value=", ".join(make.name_of(p) for p in people) or None)
    return out


def _options_value(make: Maker, field: Record, filled: bool) -> Record:
    options = [o for o in field["enum_options"] if o["enabled"]]
    if field["resource_subtype"] == "enum":
        choice = make.rng.choice(options) if filled else None
        return {"enum_options": field["enum_options"], "enum_value": choice,
                "display_value": choice["name"] if choice else None}
    chosen = make.rng.sample(options, make.rng.randint(1, len(options))) if filled else []
    return {"enum_options": field["enum_options"], "multi_enum_values": chosen,
            "display_value": ", ".join(o["name"] for o in chosen) or None}


def new_setting(make: Maker, parent: str, field_gid: str, relation: str) -> Record:
    """A custom field setting of a project (`Rel.PROJECT_SETTINGS`) or a portfolio."""
    record: Record = {"gid": make.store.new_gid(), "resource_type": "custom_field_setting"}
    if relation == Rel.PROJECT_SETTINGS:
        record["project"] = Ref(parent)  # deprecated alias of `parent`, projects only
    record.update({"parent": Ref(parent), "is_important": make.rng.random() < 0.5,
                   "custom_field": Ref(field_gid, "full")})
    make.store.add(record)
    make.store.link(relation, parent, record["gid"])
    return record


def value_change(kind: str, old: Record, new: Record) -> Dict[str, Any]:
    """The `old_<value key>` and `new_<value key>` of a `<type>_custom_field_changed` story, as
    `StoryResponse` types them: numbers are integers, dates are `StoryResponseDates`."""
    key = VALUE_KEY[kind]
    return {f"old_{key}": _story_value(kind, old.get(key)), f"new_{key}": _story_value(kind, new.get(key))}


def _story_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "number":
        return int(round(value))
    if kind == "date":
        return {"start_on": None, "due_at": value.get("date_time"), "due_on": value["date"]}
    return value


def with_value(make: Maker, old: Record, new_value: Any) -> Record:
    """The value object `old` holding `new_value`, given as the API takes it: text, number,
    enum option gid or name, a list of them (multi_enum), a date or date-time (date), user
    gids (people), None to clear; UNSET draws a new value."""
    if new_value is UNSET:
        fresh = value(make, old["gid"], filled=True)
        return dict(fresh, enabled=old["enabled"])
    new = dict(old)
    kind, definition = old["resource_subtype"], make.store.records[old["gid"]]
    if kind == "text":
        new["text_value"] = None if new_value is None else str(new_value)
        new["display_value"] = new["text_value"]
    elif kind == "number":
        precision = definition["precision"]
        new["number_value"] = None if new_value is None else round(float(new_value), precision)
        new["display_value"] = None if new_value is None else f"{new['number_value']:.{precision}f}"
    elif kind == "enum":
        new["enum_value"] = None if new_value is None else _option(definition, new_value)
        new["display_value"] = new["enum_value"]["name"] if new["enum_value"] else None
    elif kind == "multi_enum":
        chosen = [_option(definition, v) for v in (new_value or [])]
        new["multi_enum_values"] = chosen
        new["display_value"] = ", ".join(o["name"] for o in chosen) or None
    elif kind == "date":
        new["date_value"] = None if new_value is None else _date_value(str(new_value))
        new["display_value"] = new["date_value"]["date"] if new["date_value"] else None
    elif kind == "people":
        people = list(new_value or [])
        missing = [u for u in people if make.store.get(u, "user") is None]
        if missing:
            raise ValueError(f"not a user: {', '.join(missing)}")
        new["people_value"] = [Ref(u) for u in people]
        new["display_value"] = ", ".join(make.store.records[u]["name"] for u in people) or None
    return new


def _option(definition: Record, choice: Any) -> Record:
    found = next((o for o in definition.get("enum_options", []) if choice in (o["gid"], o["name"])), None)
    if found is None:
        raise ValueError(f"{definition['name']} has no option {choice!r}")
    return found


def _date_value(text: str) -> Dict[str, Any]:
    ms = parse_ms(text)
    return {"date": fmt_date(ms)} if DATE.match(text) else {"date": fmt_date(ms), "date_time": fmt_datetime(ms)}


# --- served ------------------------------------------------------------------------------------------
def field_paid(kit: Serving, field_record: Record) -> None:
    kit.premium(field_record["_workspace"])


ROUTES = (
    Route("/workspaces/{gid}/custom_fields",
          Children("workspace", Rel.WORKSPACE_CUSTOM_FIELDS, access=Serving.paid_workspace)),
    Route("/custom_fields/{gid}", One("custom_field", access=field_paid)),
)
