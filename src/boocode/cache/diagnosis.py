"""Why a call's cache share dropped: the first segment that changed, and the byte where it did.

The current request is compared with the previous request of the same conversation, segment by
segment (hashes), then byte by byte inside the first segment that differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boocode.cache.segments import Segment
from boocode.contracts.cache import CacheDiagnosis, CacheStatus, SegmentKind

# A call that got less than this share of the tokens both requests share from cache "broke".
BREAK_SHARE = 0.5

_WHAT_CHANGED = {
    SegmentKind.SYSTEM: "the system prompt changed",
    SegmentKind.TOOLS: "the tool schemas changed",
    SegmentKind.HISTORY: "an earlier turn changed",
    SegmentKind.TURN: "a message of this turn changed",
    SegmentKind.ATTACHMENT: "an attachment changed",
    SegmentKind.NOTE: "an injected note changed",
}


@dataclass(frozen=True)
class PreviousCall:
    segments: list[dict[str, Any]]
    prompt_tokens: int


def diagnose(
    previous: PreviousCall | None,
    segments: list[Segment],
    *,
    prompt_tokens: int,
    hit_tokens: int,
    previous_body: Callable[[dict[str, Any]], bytes | None],
    provider_caches: bool = True,
) -> CacheDiagnosis:
    """`previous_body(record)` returns a previous segment's bytes, or None if they are not kept."""
    if previous is None:
        return CacheDiagnosis(
            status=CacheStatus.COLD,
            broke=False,
            message="first model call of this conversation: nothing could be cached yet",
        )
    broke = provider_caches and hit_tokens < BREAK_SHARE * min(
        previous.prompt_tokens, prompt_tokens
    )
    before = previous.segments
    index = 0
    while (
        index < min(len(before), len(segments))
        and before[index].get("hash") == segments[index].hash
    ):
        index += 1
    if index == len(before):
        if broke:
            message = "nothing changed on our side: likely the provider's cache expired"
            return CacheDiagnosis(status=CacheStatus.EXPIRED, broke=True, message=message)
        message = "the previous request is a byte-identical prefix of this one"
        return CacheDiagnosis(status=CacheStatus.INTACT, broke=False, message=message)
    offset = sum(segment.size for segment in segments[:index])
    if index == len(segments):
        return CacheDiagnosis(
            status=CacheStatus.DIVERGED,
            broke=broke,
            message=(
                f"the conversation got shorter (a restore or another branch): this request ends "
                f"at byte {offset}, inside what the previous one sent"
            ),
            segment_index=index,
            byte_offset=offset,
        )
    changed = segments[index]
    old = previous_body(before[index])
    if old is None:
        where = f"in its first byte or later (its earlier bytes are not kept), from byte {offset}"
    else:
        inner = common_prefix_length(old, changed.body)
        offset += inner
        where = f"at byte {offset} ({inner} bytes into it)"
    return CacheDiagnosis(
        status=CacheStatus.DIVERGED,
        broke=broke,
        message=(
            f"{_WHAT_CHANGED[changed.kind]} ({changed.label}): this request stopped matching "
            f"the previous one {where}"
        ),
        segment_index=index,
        segment_kind=changed.kind,
        segment_label=changed.label,
        byte_offset=offset,
    )


def common_prefix_length(a: bytes, b: bytes) -> int:
    """Bytes `a` and `b` share from their start, by bisection over slice comparisons (memcmp)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
