"""The house stays as ARCHITECTURE.md draws it: every module it names exists and every module of
the tap is named; imports run down its floors only; no class grows past 250 lines; no module is
named after a batch of work; the user's README stays short and names the columns Asana does
not return."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set

from tests.tapkit import ROOT

ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
PACKAGES = ("tap_asana", "fake_asana")


def modules(package: str) -> Dict[str, Path]:
    """Module name -> file; a subpackage (capture/, state/) counts as one module, named `capture/`."""
    found: Dict[str, Path] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT / package).parts
        found[parts[0] + "/" if len(parts) > 1 else parts[0]] = path
    return found


def imports_of(path: Path) -> Set[str]:
    """The tap_asana modules a file imports, named as `modules` names them."""
    named: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tap_asana."):
            top = node.module.split(".")[1]
            named.add(top + "/" if (ROOT / "tap_asana" / top).is_dir() else top + ".py")
        elif isinstance(node, ast.ImportFrom) and node.module == "tap_asana":
            for alias in node.names:
                named.add(alias.name + "/" if (ROOT / "tap_asana" / alias.name).is_dir() else alias.name + ".py")
    return named


def floors() -> List[Set[str]]:
    paragraph = ARCHITECTURE[ARCHITECTURE.index("Floors, top down:"):]
    paragraph = paragraph[:paragraph.index("Imports run")]
    return [set(re.findall(r"`([a-z_]+(?:\.py|/))`", floor)) for floor in paragraph.split(";")]


def test_architecture_names_files_that_exist_and_every_module_of_the_tap():
    named = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.(?:py|json|md))`", ARCHITECTURE))
    missing = [name for name in named
               if not any((ROOT / base / name).exists() or list((ROOT / base).rglob(name))
                          for base in ("", "tap_asana", "fake_asana", "tests", "scripts"))]
    assert missing == []
    tap = set(modules("tap_asana")) - {"__init__.py", "__main__.py"}
    assert sorted(m for m in tap if f"`{m}`" not in ARCHITECTURE) == []


def test_the_tap_imports_only_down_its_floors():
    drawn = floors()
    level = {module: n for n, floor in enumerate(drawn) for module in floor}
    tap = modules("tap_asana")
    assert set(tap) - {"__init__.py", "__main__.py"} <= set(level), "a module is on no floor"
    upward = []
    for name, path in tap.items():
        if name in level:
            files = (ROOT / "tap_asana" / name).rglob("*.py") if name.endswith("/") else [path]
            for file in files:
                upward += [f"{file.relative_to(ROOT)} imports {other}" for other in imports_of(file)
                           if other in level and other != name and level[other] <= level[name]]
    assert upward == []


def test_no_class_over_250_lines_and_no_module_named_after_a_batch():
    long, batch = [], []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.stem.startswith("more"):
                batch.append(str(path.relative_to(ROOT)))
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 250:
                    long.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert long == [] and batch == []



def test_the_readme_is_for_the_user_and_links_the_fake_and_the_map():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 450
    assert "fake_asana/README.md" in readme and "ARCHITECTURE.md" in readme
    assert (ROOT / "fake_asana" / "README.md").exists()
    assert len(ARCHITECTURE.splitlines()) < 120


def test_the_readme_names_every_column_asana_does_not_return():
    from tap_asana.streams import STREAMS

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| stream | columns Asana does not return"):]
    table = table[:table.index("\n\n")]
    rows = {line.split("|")[1].strip(): line.split("|")[2] for line in table.splitlines()[2:] if line.startswith("| ")}
    for name, stream in STREAMS.items():
        for column in getattr(stream, "unreturned", ()):
            assert f"`{column}`" in rows.get(name, ""), f"{name}.{column}"


def test_every_make_target_and_flag_the_readme_shows_exists():
    from tap_asana.cli import _parser

    readme = (ROOT / "README.md").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    shown = set(re.findall(r"\bmake ([a-z][a-z-]+)", readme))
    assert {"test", "demo", "bench", "contract-check"} <= shown and shown <= targets, sorted(shown - targets)
    flags = {option for action in _parser()._actions for option in action.option_strings}
    # the tap's own command lines (Meltano's name the plugin tap-asana too), and flags in backticks
    commands = [re.split(r"[|>]", line.split("tap-asana", 1)[1])[0] for line in readme.splitlines()
                if re.search(r"(^|[\s/`])tap-asana -", line) and "meltano" not in line]
    shown_flags = {f for line in commands for f in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line)}
    shown_flags |= set(re.findall(r"`(--[a-z][a-z-]+)", readme)) - {"--full-refresh"}  # Meltano's
    assert {"--config", "--discover", "--catalog", "--state", "--test"} <= shown_flags
    assert shown_flags <= flags, sorted(shown_flags - flags)
