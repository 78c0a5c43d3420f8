"""`make stitch-check`: a full sync of every stream, fed through Stitch's own validator.

`target-stitch --dry-run` (in its own venv, .tools/target-stitch) checks each RECORD against its
stream's SCHEMA with a Draft 4 validator and format checks, as Stitch does when it loads; it
sends nothing anywhere. The tap runs against the fake Asana; by default on its own discovered
catalog, with `--catalog FILE` on another one (a catalog kept from singer-io's tap-asana, say),
every stream selected either way. Prints PASS or FAIL with the validator's message; exit 0/1.
Files go to .tools/stitch-check/.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fake_asana import FakeAsana  # noqa: E402

TARGET = ROOT / ".tools" / "target-stitch" / "bin" / "target-stitch"
OUT = ROOT / ".tools" / "stitch-check"


def select_all(catalog: dict) -> dict:
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if not meta["breadcrumb"]:
                meta["metadata"]["selected"] = True
    return catalog


def validator_rejects_a_bad_record(messages: list) -> bool:
    """The control: the same output with one record's key made a number must be refused,
    or a PASS would prove nothing."""
    first = next(i for i, m in enumerate(messages) if m["type"] == "RECORD")
    broken = [dict(m) for m in messages]
    broken[first] = dict(broken[first], record=dict(broken[first]["record"], gid=12345))
    result = subprocess.run([str(TARGET), "--dry-run"], input="".join(json.dumps(m) + "\n" for m in broken),
                            text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    print(f"  control: the same output with {broken[first]['stream']}.gid a number: "
          f"target-stitch exits {result.returncode} ({'rejected' if result.returncode else 'accepted'})")
    return result.returncode != 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, help="a catalog to use instead of the discovered one")
    parser.add_argument("--preset", default="demo", help="fake Asana dataset (default demo)")
    args = parser.parse_args()
    if not TARGET.exists():
        raise SystemExit(f"{TARGET} is missing: run `make stitch-check`, which installs it")
    OUT.mkdir(parents=True, exist_ok=True)
    with FakeAsana(preset=args.preset, seed=1) as fake:
        print(f"Fake Asana listening on {fake.url} (dataset '{args.preset}')")
        (OUT / "config.json").write_text(json.dumps({
            "access_token": fake.pat, "api_url": fake.api_url, "oauth_token_url": fake.token_url,
            "start_date": "2020-01-01T00:00:00Z"}))
        if args.catalog:
            catalog = json.loads(args.catalog.read_text())
        else:
            catalog = json.loads(subprocess.check_output(
                [sys.executable, "-m", "tap_asana", "-c", "config.json", "--discover"], cwd=OUT))
        (OUT / "catalog.json").write_text(json.dumps(select_all(catalog)))
        print(f"Catalog: {args.catalog or 'discovered'}, all {len(catalog['streams'])} streams selected")
        started = time.monotonic()
        with open(OUT / "sync.jsonl", "w") as out, open(OUT / "tap.log", "w") as log:
            tap = subprocess.call([sys.executable, "-m", "tap_asana", "-c", "config.json",
                                   "--catalog", "catalog.json"], cwd=OUT, stdout=out, stderr=log)
        print(f"$ tap-asana -c config.json --catalog catalog.json > sync.jsonl  "
              f"(exit {tap}, {time.monotonic() - started:.1f}s)")
    if tap != 0:
        print((OUT / "tap.log").read_text()[-2000:])
        print("stitch-check FAIL: the tap itself failed")
        return 1
    messages = [json.loads(line) for line in (OUT / "sync.jsonl").read_text().splitlines() if line]
    counts = Counter(m["stream"] for m in messages if m["type"] == "RECORD")
    print("  " + ", ".join(f"{stream} {n}" for stream, n in sorted(counts.items())))

    started = time.monotonic()
    with open(OUT / "sync.jsonl") as feed, open(OUT / "target.log", "w") as log:
        target = subprocess.call([str(TARGET), "--dry-run"], stdin=feed, stdout=subprocess.DEVNULL, stderr=log)
    print(f"$ target-stitch --dry-run < sync.jsonl  (exit {target}, {time.monotonic() - started:.1f}s)")
    if target != 0:
        errors = [line for line in (OUT / "target.log").read_text().splitlines()
                  if line.startswith("CRITICAL") and ("Failed validating" in line or "{'type'" in line
                                                      or "On instance" in line or "Error" in line)]
        print("\n".join(errors[:3]) or (OUT / "target.log").read_text()[-2000:])
        print(f"stitch-check FAIL: target-stitch rejected the output; see {OUT / 'target.log'}")
        return 1
    if not validator_rejects_a_bad_record(messages):
        print("stitch-check FAIL: target-stitch --dry-run accepted a record that breaks its schema")
        return 1
    print(f"stitch-check PASS: {sum(counts.values())} records of {len(counts)} streams valid for Stitch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
