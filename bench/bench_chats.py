"""The chat list over HTTP with 1,000 chats: the first page, a later page, and a search.

python bench/bench_chats.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx

from support.live_server import LiveServer

CHATS = 1_000
SAMPLES = 200


def timed(http: httpx.Client, params: dict[str, str]) -> float:
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        response = http.get("/api/chats", params=params)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200 and response.json()["items"], response.text
    return statistics.median(samples)


def main() -> None:
    server = LiveServer.start(Path(tempfile.mkdtemp(prefix="boocode-bench-")))
    try:
        with server.client() as http:
            started = time.perf_counter()
            for i in range(CHATS):
                http.post("/api/chats", json={"title": f"chat {i:04d} about the parser"})
            print(f"created {CHATS:,} chats over HTTP in {time.perf_counter() - started:.1f} s")
            after = http.get("/api/chats", params={"limit": "200"}).json()["next_cursor"]
            middle = http.get("/api/chats", params={"limit": "200", "cursor": after}).json()
            first = timed(http, {"limit": "50"})
            later = timed(http, {"limit": "50", "cursor": middle["next_cursor"]})
            search = timed(http, {"limit": "50", "q": "chat 09"})
    finally:
        server.stop()
    print(f"GET /api/chats page of 50 over HTTP, {CHATS:,} chats, median of {SAMPLES}:")
    print(f"  first page {first * 1e3:.2f} ms (target <= 10 ms)")
    print(f"  a page after 400 chats {later * 1e3:.2f} ms")
    print(f"  search ?q= (100 matches) {search * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
