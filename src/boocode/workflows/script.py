"""Loading a workflow script: parsed whole by acorn in V8, its `meta` checked, before launch."""

from __future__ import annotations

import atexit
import functools
import re
import threading
from concurrent.futures import Future
from importlib import resources

from py_mini_racer import JSEvalException, MiniRacer
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictStr, ValidationError

MAX_SCRIPT_BYTES = 1024 * 1024
_CHECK_TIMEOUT_S = 10.0
_CHECK_MEMORY_BYTES = 512 * 1024 * 1024
MAX_NAME_CHARS = 100
# What no text file holds: a NUL, or half of a UTF-16 surrogate pair.
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class ScriptError(ValueError):
    """A script refused before launch; the message is one line a user can act on."""


class PhaseSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: StrictStr
    detail: StrictStr | None = None
    model: StrictStr | None = None


class ScriptMeta(BaseModel):
    """What `export const meta = {...}` declares; keys BooCode does not use are ignored."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: StrictStr = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: StrictStr
    when_to_use: StrictStr | None = Field(default=None, alias="whenToUse")
    phases: tuple[PhaseSpec, ...] = ()


class Script(BaseModel):
    """A checked script: `body` is what the sandbox runs, with the script's own line numbers."""

    model_config = ConfigDict(frozen=True)

    name: str
    meta: ScriptMeta | None
    body: str


class _CheckReport(BaseModel):
    error: str | None = None
    meta: JsonValue = None
    body: str = ""


def load_script(source: str, *, name: str | None = None) -> Script:
    """Check `source` and return it ready to run; `name` (its file's) serves when meta is absent."""
    _refuse_non_text(source)
    size = len(source.encode())
    if size > MAX_SCRIPT_BYTES:
        raise ScriptError(
            f"the script has {size:,} bytes; a workflow script may have {MAX_SCRIPT_BYTES:,}"
        )
    report = _check(source)
    if report.error is not None:
        raise ScriptError(report.error)
    meta = _validated_meta(report.meta)
    script_name = meta.name if meta is not None else name
    if not script_name:
        raise ScriptError("a script without `export const meta` needs a name (its file's)")
    return Script(name=script_name, meta=meta, body=report.body)


def _refuse_non_text(source: str) -> None:
    """A NUL or a lone surrogate would not survive storage (`boocode.db.text`): the run would
    execute another script than the one checked, so it is refused where it stands."""
    found = _NOT_TEXT.search(source)
    if found is None:
        return
    line = source.count("\n", 0, found.start()) + 1
    column = found.start() - (source.rfind("\n", 0, found.start()) + 1) + 1
    what = "a NUL character" if found[0] == "\x00" else f"a lone surrogate (U+{ord(found[0]):04X})"
    raise ScriptError(f"line {line}, column {column} has {what}; a workflow script is UTF-8 text")


def _validated_meta(value: JsonValue) -> ScriptMeta | None:
    if value is None:
        return None
    try:
        return ScriptMeta.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(["meta", *(str(part) for part in first["loc"])])
        if first["type"] == "missing":
            raise ScriptError(f"{field} is required") from None
        raise ScriptError(f"{field}: {first['msg']}") from None


def _check(source: str) -> _CheckReport:
    try:
        answer = _checker().call("checkWorkflowScript", source, timeout_sec=_CHECK_TIMEOUT_S)
    except TimeoutError:
        raise ScriptError(f"checking the script took over {_CHECK_TIMEOUT_S:g} s") from None
    except JSEvalException as error:
        raise ScriptError(f"the script could not be checked: {error}") from None
    return _CheckReport.model_validate_json(answer)


@functools.cache
def _checker() -> MiniRacer:
    """One isolate per process with acorn loaded, owned by a thread of its own.

    Built on a thread with no running loop, so mini-racer gives it a private loop: calls from any
    thread or event loop then hop onto that loop, and no caller's loop ever owns it. V8 tears an
    isolate down safely only on the thread that made it (elsewhere, once it ran a script, the
    process dies of SIGSEGV), so that thread lives on and closes it when the process exits.
    """
    built: Future[MiniRacer] = Future()
    exiting = threading.Event()

    def own() -> None:
        try:
            racer = _new_checker()
        except BaseException as exc:
            built.set_exception(exc)
            return
        built.set_result(racer)
        exiting.wait()
        racer.close()

    owner = threading.Thread(target=own, name="workflow-script-checker", daemon=True)
    owner.start()

    def close() -> None:
        exiting.set()
        owner.join()

    atexit.register(close)
    return built.result()


def _new_checker() -> MiniRacer:
    racer = MiniRacer()
    racer.set_hard_memory_limit(_CHECK_MEMORY_BYTES)
    package = resources.files(__package__)
    racer.eval((package / "vendor" / "acorn.js").read_text())
    racer.eval((package / "check.js").read_text())
    return racer
