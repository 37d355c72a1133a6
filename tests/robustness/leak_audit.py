"""Looks for configured keys and tokens in everything the gateway says: whole, or in pieces.

A secret may only ever appear masked, as ``…`` and its last four characters. Any run of
eight or more of its characters counts as a leak: a prefix left by a cut, a suffix, a
piece from the middle. Findings name the secret masked, never the secret itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from app.redaction import mask

PIECE = 8
# Texts longer than this (large relayed images) are scanned at a stride of PIECE, which
# still finds any piece of 2 x PIECE - 1 characters or more: the suite stays fast.
FULL_SCAN_CHARS = 64 * 1024
SECRET_ALPHABET = re.compile(r"[A-Za-z0-9._\-]+")
_RUNS = re.compile(rf"[A-Za-z0-9._\-]{{{PIECE},}}")


class LeakAudit:
    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(secrets)
        for secret in self.secrets:
            # The scanner reads runs of these characters; a secret outside them is unseen.
            assert SECRET_ALPHABET.fullmatch(secret), "test secrets use [A-Za-z0-9._-]"
            assert len(secret) >= 2 * PIECE
        self._pieces = {secret[i:i + PIECE]: secret
                        for secret in self.secrets for i in range(len(secret) - PIECE + 1)}
        self.texts = 0
        self.characters = 0
        self.findings: list[str] = []

    def scan(self, where: str, text: str) -> None:
        self.texts += 1
        self.characters += len(text)
        stride = 1 if len(text) <= FULL_SCAN_CHARS else PIECE
        for run in _RUNS.findall(text):
            for start in range(0, len(run) - PIECE + 1, stride):
                secret = self._pieces.get(run[start:start + PIECE])
                if secret is not None:
                    self.findings.append(f"{where}: a piece of {mask(secret)}")
                    break

    def scan_response(self, where: str, headers: Mapping[str, str] | Iterable[tuple],
                      body: bytes) -> None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        self.scan(f"{where} headers", "\n".join(f"{name}: {value}" for name, value in items))
        self.scan(f"{where} body", body.decode("utf-8", "replace"))

    def summary(self) -> str:
        return (f"{len(self.secrets)} secrets looked for in {self.texts} texts "
                f"({self.characters / 1e6:.1f} MB): {len(self.findings)} found")
