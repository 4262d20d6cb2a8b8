from openai.types import CompletionUsage

from boocode.contracts.usage import TokenUsage
from boocode.providers import Usage


def test_deepseek_usage_reads_cache_hit_miss_and_reasoning() -> None:
    usage = Usage.from_openai(
        {
            "prompt_tokens": 1200,
            "completion_tokens": 300,
            "total_tokens": 1500,
            "prompt_cache_hit_tokens": 1024,
            "prompt_cache_miss_tokens": 176,
            "completion_tokens_details": {"reasoning_tokens": 120},
        }
    )
    assert usage == Usage(
        prompt_tokens=1200,
        completion_tokens=300,
        cache_hit_tokens=1024,
        cache_miss_tokens=176,
        reasoning_tokens=120,
    )
    assert usage.total_tokens == 1500


def test_openai_usage_reads_cached_tokens_and_counts_the_rest_as_misses() -> None:
    usage = Usage.from_openai(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 50,
            "prompt_tokens_details": {"cached_tokens": 1536, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
    )
    assert (usage.cache_hit_tokens, usage.cache_miss_tokens) == (1536, 464)


def test_usage_with_only_prompt_tokens_is_all_misses() -> None:
    usage = Usage.from_openai({"prompt_tokens": 10, "completion_tokens": 3})
    assert usage == Usage(prompt_tokens=10, completion_tokens=3, cache_miss_tokens=10)


def test_missing_or_null_fields_are_zero() -> None:
    assert Usage.from_openai(None) == Usage()
    assert Usage.from_openai({"prompt_tokens": None, "prompt_tokens_details": None}) == Usage()


def test_sdk_usage_object_keeps_deepseek_fields_from_model_extra() -> None:
    sdk_usage = CompletionUsage.construct(
        prompt_tokens=100,
        completion_tokens=20,
        total_tokens=120,
        prompt_cache_hit_tokens=64,
        prompt_cache_miss_tokens=36,
    )
    usage = Usage.from_openai(sdk_usage)
    assert (usage.cache_hit_tokens, usage.cache_miss_tokens) == (64, 36)


def test_usages_add_up() -> None:
    first = Usage(prompt_tokens=10, completion_tokens=2, cache_hit_tokens=4, cache_miss_tokens=6)
    second = Usage(prompt_tokens=5, completion_tokens=1, cache_miss_tokens=5, reasoning_tokens=1)
    total = first + second
    assert total == TokenUsage(
        prompt_tokens=15,
        completion_tokens=3,
        cache_hit_tokens=4,
        cache_miss_tokens=11,
        reasoning_tokens=1,
    )
    assert total.total_tokens == 18
