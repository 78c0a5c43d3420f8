"""`python -m fake_asana --port 0 --preset demo --seed 1 [flags]`

Prints one line to stdout, the server's base URL, then serves until SIGTERM or SIGINT
(exit 0). A JSON line on stderr gives the token and OAuth client credentials to use.
Every `Options` field and every `Sizes` field is a flag (underscores become dashes)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from typing import Any, Dict, List, Optional

from .fake import FakeAsana
from .options import Options
from .sizes import PRESETS, Sizes

_TYPES = {"int": int, "float": float, "str": str}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m fake_asana", description="A local fake of Asana's REST API 1.0.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny", help="data size")
    p.add_argument("--seed", type=int, default=1, help="seed of the data and of the faults")
    p.add_argument("--now", help="generate data as of this UTC time (default: now, floored to the hour)")
    sizes = p.add_argument_group("data sizes (override the preset)")
    for f in dataclasses.fields(Sizes):
        sizes.add_argument("--" + f.name.replace("_", "-"), type=_TYPES[str(f.type)], default=None)
    options = p.add_argument_group("server options")
    for f in dataclasses.fields(Options):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if str(f.type) == "bool":
            options.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                                 help=f"{help_text} (default {str(f.default).lower()})")
        else:
            options.add_argument(flag, type=_TYPES[str(f.type)], default=f.default,
                                 help=f"{help_text} (default {f.default})")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = vars(parser().parse_args(argv))
    size_names = {f.name for f in dataclasses.fields(Sizes)}
    kwargs: Dict[str, Any] = {k: v for k, v in args.items() if k not in size_names or v is not None}
    fake = FakeAsana(**kwargs)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with fake:
        print(fake.url, flush=True)
        print(json.dumps({"api_url": fake.api_url, "token_url": fake.token_url, "access_token": fake.pat,
                          "service_account_token": fake.service_account_token, **fake.oauth}),
              file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
