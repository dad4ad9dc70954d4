"""``rholive models``: the Live models the endpoint lists now, with what rholive's catalog says of them.

Plain: one model per line, its name first, then the catalog's status and note. ``--json``: one
``{"event": "model", ...}`` object per line. Formatting is pure; `main` does the I/O.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from rholive.config import Settings
from rholive.connect import open_endpoint
from rholive.live import ListedModel, list_models, live_models, models

UNKNOWN = "unknown"


def model_record(listed: ListedModel) -> dict[str, Any]:
    """The JSON event of one listed Live model; ``status`` is "unknown" when the catalog does not know it."""
    entry = models.lookup(listed.name)
    prices = entry.prices if entry is not None else None
    return {
        "event": "model",
        "name": listed.name,
        "status": entry.status_text() if entry is not None else UNKNOWN,
        "default": entry is not None and entry.name == models.DEFAULT_MODEL,
        "display_name": listed.display_name,
        "input_token_limit": listed.input_token_limit,
        "modalities": list(entry.modalities) if entry is not None else None,
        "note": entry.note if entry is not None else "not in rholive's catalog",
        "prices_per_1m_tokens": None
        if prices is None
        else {
            "text_in": prices.text_in,
            "audio_in": prices.audio_in,
            "text_out": prices.text_out,
            "audio_out": prices.audio_out,
            "source": prices.source,
        },
    }


def model_lines(records: list[dict[str, Any]]) -> list[str]:
    """Name, status, note; the names padded so the statuses line up."""
    width = max((len(r["name"]) for r in records), default=0)
    lines = []
    for record in records:
        status = record["status"] + (", default" if record["default"] else "")
        note = f"  {record['note']}" if record["note"] else ""
        lines.append(f"{record['name']:<{width}}  {status}{note}".rstrip())
    return lines


async def run_models(settings: Settings, *, json_mode: bool, out: TextIO) -> int:
    async with open_endpoint(settings) as endpoint:
        listed = await list_models(endpoint)
    records = [model_record(model) for model in live_models(listed)]
    if json_mode:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif records:
        out.write("\n".join(model_lines(records)) + "\n")
    else:
        print("rholive: the endpoint lists no Live models", file=sys.stderr)
    out.flush()
    return 0


def main(settings: Settings, *, json_mode: bool) -> int:
    return asyncio.run(run_models(settings, json_mode=json_mode, out=sys.stdout))
