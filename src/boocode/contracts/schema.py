"""JSON Schema of the contract: the WebSocket frames union and every REST body.

`boocode contracts export` writes them to `docs/contracts/`; a test compares the committed files
with the models, so a change to a model without a re-export fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import boocode.contracts
from boocode.contracts.base import FrameBase

FRAMES_FILE = "frames.json"
REST_FILE = "rest.json"
_SKIPPED_MODULES = {"boocode.contracts.schema", "boocode.contracts.base"}


def export_schemas(out_dir: Path) -> list[Path]:
    """Write `frames.json` and `rest.json` into `out_dir`; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in contract_schemas().items():
        path = out_dir / name
        path.write_text(render(schema))
        written.append(path)
    return written


def contract_schemas() -> dict[str, dict[str, Any]]:
    """The schemas by file name, as `export_schemas` writes them."""
    from boocode.contracts.frames import frame_adapter

    frames = frame_adapter.json_schema(mode="serialization")
    frames["title"] = "BooCode WebSocket frame"
    rest_models = [(model, "validation") for model in rest_body_models()]
    _, rest = models_json_schema(rest_models, title="BooCode REST bodies")  # type: ignore[arg-type]
    return {FRAMES_FILE: frames, REST_FILE: rest}


def render(schema: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, a trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rest_body_models() -> list[type[BaseModel]]:
    """Every model defined in a `boocode.contracts` module that is not a frame, by name."""
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(boocode.contracts.__path__, "boocode.contracts."):
        if info.name in _SKIPPED_MODULES:
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseModel)
                and obj.__module__ == module.__name__
                and not issubclass(obj, FrameBase)
            ):
                found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]
