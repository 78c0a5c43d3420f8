"""What every family's record factories build on: the store, one random stream, and the
few helpers they share. The same factories serve the initial generation and the mutation
ops, so a record added while the server runs has exactly the shape of a generated one.

Each factory draws from the stream it is given, in a fixed order: the generation and each
mutation are deterministic from the seed because every draw happens in the same sequence
every time. Reordering draws inside a factory changes the generated data."""
from __future__ import annotations

import html
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .sizes import Sizes
from .store import Ref, Rel, Store
from .timefmt import DAY_MS, HOUR_MS
from .vocab import EMOJI

#: How far back generated history reaches, ending an hour before `now`.
HISTORY_DAYS = 730


def ref(gid: Optional[str], embed: str = "compact") -> Optional[Ref]:
    """A reference, or None for no gid (an unassigned task's `assignee`, say)."""
    return Ref(gid, embed) if gid else None


class Maker:
    """The store and the random stream a batch of records is made with."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng

    def members(self, workspace: str) -> List[str]:
        return self.store.related(Rel.WORKSPACE_USERS, workspace)

    def name_of(self, gid: str) -> str:
        return self.store.records[gid]["name"]

    def weighted(self, pairs: Sequence[Tuple[str, float]]) -> str:
        return self.rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]

    def between(self, low: int, high: int) -> int:
        """A time in [low, high]; `low` when the range is empty."""
        return self.rng.randint(low, max(low, high))

    def likes(self, workspace: str) -> Dict[str, Any]:
        """likes/hearts (the deprecated alias) and their counts; `liked` is from the point
        of view of the token's owner ("me")."""
        users = self.members(workspace)
        count = self.rng.choice((0, 0, 0, 1, 1, 2, 3))
        likers = self.rng.sample(users, min(count, len(users)))
        likes = [{"gid": self.store.new_gid(), "user": Ref(u)} for u in likers]
        mine = self.store.me in likers
        return {"hearted": mine, "hearts": likes, "num_hearts": len(likes),
                "liked": mine, "likes": likes, "num_likes": len(likes)}

    def reactions(self, workspace: str, share: float) -> List[Dict[str, Any]]:
        """A `reaction_summary`: empty but for `share` of the time, then one or two emoji with
        how many reacted and whether "me" did."""
        if self.rng.random() >= share:
            return []
        people = len(self.members(workspace))
        kinds = self.rng.sample(EMOJI, self.rng.randint(1, 2))
        return [{"emoji_base": base, "variant": self.rng.choice(variants), "count": self.rng.randint(1, people),
                 "reacted": self.rng.random() < 0.3} for base, variants in kinds]

    @staticmethod
    def html_of(text: str) -> str:
        return "<body>" + html.escape(text, quote=False) + "</body>"


@dataclass(frozen=True)
class Generation:
    """One random stream of the initial generation, with the sizes asked for and the window
    generated history lies in (`start`..`end`)."""

    make: Maker
    sizes: Sizes
    start: int
    end: int

    @classmethod
    def stream(cls, store: Store, sizes: Sizes, name: str) -> "Generation":
        """The stream seeded `<name>:<seed>`: its name is part of the data, so renaming a
        stream changes every value drawn from it."""
        end = store.now_ms - HOUR_MS
        return cls(Maker(store, random.Random(f"{name}:{store.seed}")), sizes, end - HISTORY_DAYS * DAY_MS, end)

    @property
    def store(self) -> Store:
        return self.make.store

    @property
    def rng(self) -> random.Random:
        return self.make.rng

    def between(self, low: int, high: int) -> int:
        return self.make.between(low, high)
