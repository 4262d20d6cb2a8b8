"""Answers and edits in a real Chromium: Markdown rendered and sanitised, code highlighted and
copied, file edits drawn as diffs, the Files panel's net change per turn, long content folded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from support.browser import open_app
from support.fake_model import FakeModelServer, Reply
from support.live_server import LiveServer

pytestmark = pytest.mark.browser

ANSWER = """## Summary

The parser now **keeps** comments. See [the docs](https://example.com/docs).

| file | change |
| --- | --- |
| parser.py | keeps comments |

1. read the file
2. change it
3. run the tests

> Note: nothing else changed.

```python
def double(x):
    return 2 * x
```

<img src="x" onerror="window.__xss = 1"><script>window.__xss = 2</script>
"""


def send(page: Page, text: str) -> None:
    page.get_by_label("message", exact=True).fill(text)
    page.get_by_label("message", exact=True).press("Enter")


def open_chat(page: Page, server: LiveServer) -> None:
    chat = server.new_chat()
    open_app(page, server, f"#/chats/{chat['id']}")


def test_an_answer_is_rendered_as_markdown_and_sanitised(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    fake_model_server.reset()
    fake_model_server.script([Reply.text(ANSWER)])
    open_chat(page, fake_live_server)
    send(page, "summarise")

    answer = page.locator(".msg.assistant:not(.streaming) .markdown")
    expect(answer.get_by_role("heading", name="Summary")).to_be_visible()
    expect(answer.locator("strong")).to_have_text("keeps")
    expect(answer.locator("table td").first).to_have_text("parser.py")
    expect(answer.locator("ol li")).to_have_count(3)
    expect(answer.locator("blockquote")).to_contain_text("nothing else changed")
    link = answer.get_by_role("link", name="the docs")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(answer.locator(".code-lang")).to_have_text("python")
    expect(answer.locator("code .hljs-keyword").first).to_have_text("def")
    expect(answer.locator("script, img[onerror]")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    answer.get_by_role("button", name="copy code").click()
    expect(answer.get_by_role("button", name="copy code")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "def double(x):\n    return 2 * x"


def test_file_edits_show_as_diffs_and_the_files_panel_shows_the_turns_net_change(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    fake_model_server.reset()
    fake_model_server.script(
        [
            Reply.tool_calls(
                [
                    ("write_file", {"path": "notes.py", "content": "x = 1\n"}),
                    (
                        "edit_file",
                        {"path": "notes.py", "old_string": "x = 1", "new_string": "x = 2"},
                    ),
                ]
            ),
            Reply.text("Edited."),
        ]
    )
    open_chat(page, fake_live_server)
    send(page, "edit the notes")
    expect(page.locator(".msg.assistant:not(.streaming) .markdown")).to_have_text("Edited.")

    write, edit = page.locator(".tool").nth(0), page.locator(".tool").nth(1)
    expect(write.locator(".tool-args")).to_have_text("notes.py")
    expect(write.locator(".tool-body")).to_contain_text("new contents · 2 lines")
    expect(write.locator(".hljs-number").first).to_have_text("1")
    expect(edit.locator(".diff-del")).to_have_text("-x = 1")
    expect(edit.locator(".diff-add")).to_have_text("+x = 2")
    expect(edit.locator(".diff-stats")).to_have_text("+1 \N{MINUS SIGN}1")
    expect(page.locator(".tool-body pre.code", has_text='"old_string"')).to_have_count(0)

    page.get_by_role("tab", name="Files").click()
    entry = page.locator(".touched-file[data-path='notes.py']")
    expect(page.get_by_label("changes of")).to_have_value("")  # the whole chat
    expect(entry.locator(".touched-meta")).to_have_text("turn 1 · 2 writes")
    expect(entry.locator(".diff-add")).to_have_text("+x = 2")  # open, and net: never "x = 1"
    expect(entry.locator(".diff-del")).to_have_count(0)
    page.get_by_role("tab", name="Traces").click()
    edit.get_by_role("button", name="net change of turn 1 in Files").click()
    expect(page.get_by_role("tab", name="Files")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("changes of")).to_have_value("1")
    expect(entry.locator(".diff-add")).to_have_text("+x = 2")


def test_long_messages_and_outputs_start_folded(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    # Few, long words: the fake model streams one chunk per word.
    long_answer = "\n\n".join(f"Paragraph {i}: " + "w" * 170 for i in range(600))
    assert len(long_answer) > 100_000
    fake_model_server.reset()
    fake_model_server.script([Reply.text(long_answer)])
    open_chat(page, fake_live_server)
    send(page, "tell me everything")

    answer = page.locator(".msg.assistant:not(.streaming)")
    toggle = answer.get_by_role("button", name="Show all")
    expect(toggle).to_contain_text("1,199 lines", timeout=30_000)
    height = answer.locator(".folded-body").evaluate("el => el.getBoundingClientRect().height")
    assert height < 600
    toggle.click()
    expect(answer.get_by_role("button", name="Show less")).to_be_visible()
    expect(answer.locator(".markdown p").last).to_contain_text("Paragraph 599")
    assert answer.locator(".folded-body").evaluate("el => el.scrollHeight") > 5000


def test_a_long_message_and_a_long_tool_output_start_folded_and_unfold_on_click(
    page: Page, fake_live_server: LiveServer, fake_model_server: FakeModelServer
) -> None:
    (fake_live_server.workspace / "long.txt").write_text(
        "".join(f"entry {i}\n" for i in range(1, 121))
    )
    fake_model_server.reset()
    fake_model_server.script(
        [Reply.tool_calls([("read_file", {"path": "long.txt"})]), Reply.text("Read it.")]
    )
    open_chat(page, fake_live_server)
    message = "\n".join(f"step {i}: check it" for i in range(1, 61))
    send(page, message)
    expect(page.locator(".msg.assistant:not(.streaming) .markdown")).to_have_text("Read it.")

    mine = page.locator(".msg.user")
    expect(mine.get_by_role("button", name="Show all")).to_have_text(
        f"Show all · 60 lines, {len(message):,} characters"
    )
    assert mine.locator(".folded-body").evaluate("el => el.clientHeight < el.scrollHeight")
    mine.get_by_role("button", name="Show all").click()
    expect(mine.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    expect(mine.locator(".plain")).to_contain_text("step 60: check it")
    assert mine.locator(".folded-body").evaluate("el => el.clientHeight >= el.scrollHeight")

    tool = page.locator(".tool", has_text="read_file")
    tool.locator("summary").click()
    toggle = tool.get_by_role("button", name="Show all")
    expect(toggle).to_contain_text("lines")
    output = tool.locator(".folded-body")
    assert output.evaluate("el => el.clientHeight < el.scrollHeight")
    toggle.click()
    expect(tool.get_by_role("button", name="Show less")).to_be_visible()
    expect(tool.locator(".tool-output")).to_contain_text("entry 120")
    assert output.evaluate("el => el.clientHeight >= el.scrollHeight")
