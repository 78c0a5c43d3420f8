"""Serialises Singer messages: one JSON object per line on one text stream. What is
written, and when, is decided by ``sync.py``; this module only owns the bytes."""
from __future__ import annotations

import json
import sys
from typing import IO, Any, Dict


class Writer:
    """Singer messages on one stream, one JSON object per line."""

    def __init__(self, out: IO[str] = sys.stdout):
        self.out = out
        self.dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def write(self, message: Dict[str, Any]) -> None:
        self.out.write(self.dumps(message) + "\n")

    def state(self, value: Dict[str, Any]) -> None:
        self.write({"type": "STATE", "value": value})
        self.out.flush()
