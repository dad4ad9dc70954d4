"""Token usage of a whole session: every ``usageMetadata`` report added up, across reconnections."""

from __future__ import annotations

from dataclasses import dataclass, field

from rholive.live.events import Usage


@dataclass
class UsageTotals:
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    prompt_by_modality: dict[str, int] = field(default_factory=dict)  # {"TEXT": n, "AUDIO": n, ...}
    response_by_modality: dict[str, int] = field(default_factory=dict)
    thoughts_tokens: int = 0
    cached_tokens: int = 0
    tool_use_prompt_tokens: int = 0
    reports: int = 0

    def add(self, usage: Usage) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.response_tokens += usage.response_tokens
        self.total_tokens += usage.total_tokens
        self.thoughts_tokens += usage.thoughts_tokens
        self.cached_tokens += usage.cached_tokens
        self.tool_use_prompt_tokens += usage.tool_use_prompt_tokens
        _merge(self.prompt_by_modality, usage.prompt_by_modality)
        _merge(self.response_by_modality, usage.response_by_modality)
        self.reports += 1


def _merge(into: dict[str, int], counts: dict[str, int]) -> None:
    for modality, tokens in counts.items():
        into[modality] = into.get(modality, 0) + tokens
