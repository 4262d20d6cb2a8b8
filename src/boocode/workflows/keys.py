"""The content key of an `agent()` call: what it was asked, not where in the script it was.

The key is SHA-256 of the call's canonical semantic spec (prompt, schema, resolved model,
effort, agent type and its system prompt, isolation, tools; not display-only options such as
`label` or `phase`),
with the call's occurrence among identical specs of the run appended, so three identical
reviewers stay three calls. Parallel agents starting in another order get the same keys.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any


def spec_hash(
    *,
    prompt: str,
    output_schema: dict[str, Any] | None,
    model: str,
    effort: str | None,
    agent_type: str,
    isolation: str | None,
    tools: list[str] | None,
    system_prompt: str | None = None,
) -> str:
    spec: dict[str, Any] = {
        "prompt": prompt,
        "schema": output_schema,
        "model": model,
        "effort": effort,
        "agent_type": agent_type,
        "isolation": isolation,
        "tools": sorted(tools) if tools is not None else None,
    }
    if system_prompt is not None:  # absent, so keys of agents without one stay what they were
        spec["system_prompt"] = system_prompt
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Occurrences:
    """Numbers identical specs of one run 0, 1, 2… in the order they are asked for."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def key(self, digest: str) -> tuple[str, int]:
        occurrence = self._seen[digest]
        self._seen[digest] += 1
        return f"{digest}:{occurrence}", occurrence
