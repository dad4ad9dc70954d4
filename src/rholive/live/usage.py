"""Token usage accumulated over a whole session (all its connections)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rholive.live.events import Usage


@dataclass
class UsageTotals:
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    prompt_by_modality: Counter[str] = field(default_factory=Counter)
    response_by_modality: Counter[str] = field(default_factory=Counter)
    reports: int = 0

    def add(self, usage: Usage) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.response_tokens += usage.response_tokens
        self.total_tokens += usage.total_tokens
        self.prompt_by_modality.update(usage.prompt_by_modality)
        self.response_by_modality.update(usage.response_by_modality)
        self.reports += 1
