"""Loading a script: acorn parses all of it and `meta` is checked before anything runs."""

from __future__ import annotations

import re

import pytest

from boocode.workflows.script import MAX_SCRIPT_BYTES, PhaseSpec, ScriptError, load_script

META = "export const meta = { name: 'n', description: 'd' }\n"
GOOD = """// Reviews the files it is given.
/* a block comment before meta is fine */
export const meta = {
  name: 'review',
  description: `Review each file, then verify`,
  whenToUse: 'after a large change',
  phases: [{ title: 'Review', detail: 'one agent per file' }, { title: 'Verify', model: 'small' }],
  retries: -1,
}

phase('Review')
const reviews = await parallel(args.files.map((file) => () => agent(`Review ${file}`)))
if (reviews.length === 0) return null
return reviews
"""


def test_a_good_script_loads_with_its_meta() -> None:
    script = load_script(GOOD, name="ignored-when-meta-names-it")

    assert script.name == "review"
    assert script.meta is not None
    assert script.meta.description == "Review each file, then verify"
    assert script.meta.when_to_use == "after a large change"
    assert script.meta.phases == (
        PhaseSpec(title="Review", detail="one agent per file"),
        PhaseSpec(title="Verify", model="small"),
    )


def test_the_body_keeps_every_line_where_the_author_wrote_it() -> None:
    script = load_script(GOOD)

    assert script.body.splitlines() == [
        line.replace("export const meta", "       const meta") for line in GOOD.splitlines()
    ]


@pytest.mark.parametrize(
    ("meta", "error"),
    [
        ("{ description: 'd' }", "meta.name is required"),
        ("{ name: 'n' }", "meta.description is required"),
        ("{ name: 7, description: 'd' }", "meta.name: Input should be a valid string"),
        ("{ name: '', description: 'd' }", "meta.name: String should have at least 1 character"),
        (
            "{ name: 'n', description: 'd', whenToUse: true }",
            "meta.whenToUse: Input should be a valid string",
        ),
        (
            "{ name: 'n', description: 'd', phases: [{ detail: 'x' }] }",
            "meta.phases.0.title is required",
        ),
        (
            "{ name: 'n', description: 'd', phases: 'Review' }",
            "meta.phases: Input should be a valid tuple",
        ),
        ("['n', 'd']", "meta: Input should be a valid dictionary"),
        ("{ name: NAME, description: 'd' }", "but line 1, column 29 has a variable (`NAME`)"),
        ("{ name: 'n', description: describe() }", "line 1, column 47 has a call"),
        (
            "{ name: 'n', description: `for ${who}` }",
            "line 1, column 54 has a template interpolation",
        ),
        ("{ name: 'n', ...more }", "line 1, column 34 has a spread"),
        ("{ name: 'n', [key]: 'd' }", "line 1, column 34 has a computed key"),
        ("{ name: 'n', description() {} }", "line 1, column 34 has a method or accessor"),
        ("{ name, description: 'd' }", "has a variable (`name`)"),
        ("{ name: 'n', description: 'a' + 'b' }", "has an expression (BinaryExpression)"),
        ("{ name: 'n', description: 'd', phases: [, { title: 'x' }] }", "has an array hole"),
        ("{ name: 'n', description: /d/ }", "has a regular expression or BigInt"),
        (
            f"{{ name: '{'n' * 101}', description: 'd' }}",
            "meta.name: String should have at most 100",
        ),
    ],
)
def test_bad_meta_is_refused_with_what_is_wrong(meta: str, error: str) -> None:
    with pytest.raises(ScriptError) as refused:
        load_script(f"export const meta = {meta}\nreturn 1\n")

    assert error in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("return 1\n", "a workflow script begins with `export const meta = { name, description }`"),
        (
            "const x = 1\nexport const meta = { name: 'n', description: 'd' }\n",
            "must be the script's first statement",
        ),
        (
            "export let meta = { name: 'n', description: 'd' }\n",
            "write meta as `export const meta = {...}`",
        ),
        ("import fs from 'node:fs'\n", "line 1, column 1: import is not available"),
        (
            "export const meta = { name: 'n', description: 'd' }\nconst m = await import('x')\n",
            "line 2, column 17: import",
        ),
        (
            "export const meta = { name: 'n', description: 'd' }\nexport const other = 1\n",
            "exports only `meta`",
        ),
        ("export default class Main {}\n", "`export default` must be a function"),
    ],
)
def test_a_script_of_the_wrong_shape_is_refused(source: str, error: str) -> None:
    with pytest.raises(ScriptError, match=re.escape(error)):
        load_script(source, name="file")


def test_a_syntax_error_anywhere_is_refused_with_its_line_and_column() -> None:
    source = GOOD + "\nfunction later() {\n  return agent('x'\n}\n"

    with pytest.raises(ScriptError) as refused:
        load_script(source)

    assert str(refused.value) == "syntax error at line 18, column 1: Unexpected token"


def test_top_level_await_and_return_are_allowed() -> None:
    script = load_script(META + "const a = await agent('x')\nreturn a\n")

    assert script.body.endswith("return a\n")


def test_whales_form_loads_without_meta_and_takes_the_files_name() -> None:
    script = load_script(
        "export default async function main(args) {\n  return args.n + 1\n}\n", name="bump"
    )

    assert script.name == "bump"
    assert script.meta is None


def test_a_script_without_meta_needs_a_name() -> None:
    with pytest.raises(ScriptError, match="needs a name"):
        load_script("export default async function main(args) {}\n")


def test_an_oversized_script_is_refused_before_parsing() -> None:
    with pytest.raises(ScriptError, match="a workflow script may have 1,048,576"):
        load_script("//" + "x" * MAX_SCRIPT_BYTES)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("'a\x00b'", "line 2, column 10 has a NUL character; a workflow script is UTF-8 text"),
        ("'a\ud800'", "line 2, column 10 has a lone surrogate (U+D800)"),
    ],
)
def test_a_script_that_is_not_text_is_refused_where_storage_would_change_it(
    text: str, error: str
) -> None:
    with pytest.raises(ScriptError, match=re.escape(error)):
        load_script(f"export const meta = {{ name: 'n', description: 'd' }}\nreturn {text}\n")
