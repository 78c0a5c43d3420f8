"""`make contract-check`: each stream held to Asana's contract (tap_asana/contract.json).

Per stream it prints the contract fields its schema covers, the fields the tap would ask
Asana for (every column selected) that the contract does not define, and the columns whose
type disagrees with the contract. `tests/test_contract.py` fails if any stream is off; the
fake Asana, which answers 400 to any field, parameter or route the contract lacks, holds
every end-to-end test to the same contract.

A column agrees with a contract field when its JSON types cover the field's (`number` covers
`integer`; every column is also nullable), it has the contract's `date-time` or `date` format
(a date the contract leaves unformatted may be formatted), an array's items agree, and an
object's properties are fields of the object (or of the resource it references) and agree in
turn; an inline object's fields must all be described.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tap_asana import contract as asana  # noqa: E402
from tap_asana.capture.family import family_fields  # noqa: E402
from tap_asana.discover import load_schemas  # noqa: E402
from tap_asana.streams import (DELETED_AT, STREAMS, AssignedTasks, Subtasks, TaskById,  # noqa: E402
                               TaskCustomFieldValues, Tasks, TaskSearch, leaf_paths)

CHECKED_FORMATS = ("date-time", "date")
#: Listings of the task family: they all ask for the family's one field list.
FAMILY_LISTINGS = (Tasks, Subtasks, TaskSearch, TaskById, AssignedTasks)


@dataclass
class Report:
    stream: str
    route: str
    resource: str
    covered: List[str] = field(default_factory=list)
    uncovered: List[str] = field(default_factory=list)  # contract fields with no column
    lacking: List[str] = field(default_factory=list)  # requested fields the contract does not define
    mismatches: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.uncovered or self.lacking or self.mismatches)


def resource_of(stream: type, contract: asana.Contract) -> str:
    if stream.contract_resource:
        return stream.contract_resource
    return contract.route(stream.path)["resource"]


def requested(stream: type, schemas: Mapping[str, Any]) -> Dict[type, List[str]]:
    """listing class -> the fields the tap asks for with every stream and column selected."""
    def paths(name: str) -> List[str]:
        props = schemas[name]["properties"]
        return [p for col in props for p in (leaf_paths(props[col], col) or [col])]

    if stream is TaskCustomFieldValues:
        return {}
    if stream in (Tasks, Subtasks):
        every = {n: paths(n) for n in ("tasks", "subtasks", TaskCustomFieldValues.name)}
        fields = family_fields(every)
        return {listing: listing.opt_fields(fields).split(",") for listing in FAMILY_LISTINGS}
    out = {stream: stream.opt_fields(paths(stream.name)).split(",")}
    if stream.column_from:
        column, child = stream.column_from
        sub = [p[len(column) + 1:] for p in paths(stream.name) if p.startswith(column + ".")]
        out[child] = child.opt_fields(sub).split(",")
    return out


def check(name: str, contract: Optional[asana.Contract] = None,
          schemas: Optional[Mapping[str, Any]] = None) -> Report:
    contract = contract or asana.load()
    schemas = schemas or load_schemas()
    stream = STREAMS[name]
    if stream is TaskCustomFieldValues:
        route, resource = "(tasks' custom_fields)", "CustomFieldResponse"
    else:
        route, resource = stream.path, resource_of(stream, contract)
    report = Report(name, route, resource)
    props = schemas[name]["properties"]
    own = {DELETED_AT, *stream.unreturned, *stream.renames}
    if stream.column_from:
        own.add(stream.column_from[0])
    if stream is TaskCustomFieldValues:
        own |= set(TaskCustomFieldValues.from_task)
    fields = contract.fields(resource)
    for column, sub in props.items():
        if column in own:
            continue
        field_name = stream.renames.get(column, column)
        spec = fields.get(field_name)
        if spec is None:
            report.mismatches.append(f"{column}: not a field of {resource}")
            continue
        report.mismatches += agree(contract, column, sub, spec)
    if stream is not TaskCustomFieldValues:
        columns = {stream.renames.get(c, c) for c in props}
        for field_name in sorted(fields):
            (report.covered if field_name in columns else report.uncovered).append(field_name)
    for listing, asked in requested(stream, schemas).items():
        owner = listing.contract_resource
        report.lacking += [f"{listing.path}: {f}" for f in asked
                           if f and not contract.requestable(listing.path, f, owner)]
    return report


def agree(contract: asana.Contract, path: str, schema: Mapping[str, Any], spec: Mapping[str, Any]) -> List[str]:
    """How a column's schema disagrees with the contract's description of the field."""
    ours = _types(schema)
    theirs = [t for t in spec.get("type", []) if t != "null"]
    missing = [t for t in theirs if t not in ours and not (t == "integer" and "number" in ours)]
    if missing:
        return [f"{path}: the schema types {'/'.join(ours) or 'nothing'}, the contract {asana.describe(spec)}"]
    problems: List[str] = []
    ours_format, theirs_format = schema.get("format"), spec.get("format")
    if theirs_format in CHECKED_FORMATS and ours_format != theirs_format:
        problems.append(f"{path}: format {ours_format or 'none'} in the schema, {theirs_format} in the contract")
    if "array" in theirs and "items" in schema and "items" in spec:
        return problems + agree(contract, f"{path}[]", schema["items"], spec["items"])
    props = schema.get("properties")
    if props and "object" in theirs:
        inline = spec.get("fields")
        for name, sub in props.items():
            nested = contract_field(contract, spec, name)
            if nested is None:
                problems.append(f"{path}.{name}: not a field of the contract's {_owner(spec)}")
            else:
                problems += agree(contract, f"{path}.{name}", sub, nested)
        if inline and not _refs(spec):
            problems += [f"{path}.{name}: in the contract, not in the schema" for name in inline if name not in props]
    return problems


def contract_field(contract: asana.Contract, spec: Mapping[str, Any], name: str) -> Optional[Mapping[str, Any]]:
    if spec.get("fields") and name in spec["fields"]:
        return spec["fields"][name]
    for owner in _refs(spec):
        found = contract.fields(owner).get(name)
        if found is not None:
            return found
    return {"type": ["string"]} if name in asana.ALWAYS and (_refs(spec) or spec.get("fields")) else None


def _refs(spec: Mapping[str, Any]) -> List[str]:
    ref = spec.get("ref")
    return [] if ref is None else ([ref] if isinstance(ref, str) else list(ref))


def _owner(spec: Mapping[str, Any]) -> str:
    return "/".join(_refs(spec)) or "inline object"


def _types(schema: Mapping[str, Any]) -> List[str]:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return [k for k in kinds if k != "null"]


def main() -> int:
    contract, schemas = asana.load(), load_schemas()
    source = contract.source
    print(f"Contract: {source['repository']} {source['file']} at {source['commit']} ({source['date']})")
    failed = 0
    for name in STREAMS:
        report = check(name, contract, schemas)
        failed += not report.ok
        total = len(report.covered) + len(report.uncovered)
        coverage = f"{len(report.covered)}/{total} contract fields covered" if total else "derived (no route)"
        print(f"\n{name} ({report.route}, {report.resource}): {coverage}; "
              f"{len(report.lacking)} requested fields the contract lacks; {len(report.mismatches)} type mismatches")
        for label, items in (("not covered", report.uncovered), ("requested, not in the contract", report.lacking),
                             ("type mismatch", report.mismatches)):
            for item in items:
                print(f"  {label}: {item}")
    print(f"\n{'OK' if not failed else f'{failed} streams off the contract'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
