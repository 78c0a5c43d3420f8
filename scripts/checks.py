"""What the `make *-check` scripts share: a check prints ok or FAIL and stops the script on FAIL."""
from __future__ import annotations


class CheckFailed(Exception):
    pass


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        raise CheckFailed(what)
