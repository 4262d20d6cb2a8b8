"""The committed JSON Schemas in docs/contracts/ match the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from boocode.cli import main
from boocode.contracts.schema import contract_schemas, render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def test_committed_schemas_match_the_models() -> None:
    for name, schema in contract_schemas().items():
        path = COMMITTED / name
        assert path.is_file(), f"{path} is missing: run `boocode contracts export`"
        assert path.read_text() == render(schema), (
            f"{path} is out of date with the models: run `boocode contracts export`"
        )


def test_the_frames_schema_is_one_union_on_type() -> None:
    frames = contract_schemas()["frames.json"]
    assert frames["discriminator"]["propertyName"] == "type"
    names = set(frames["discriminator"]["mapping"])
    assert {"snapshot", "turn_start", "message_delta", "reasoning_delta", "message"} <= names
    assert {"turn_end", "error"} <= names
    for ref in frames["discriminator"]["mapping"].values():
        frame = frames["$defs"][ref.rsplit("/", 1)[1]]
        assert {"chat_id", "seq", "type"} <= frame["properties"].keys()


def test_export_writes_deterministic_files(tmp_path: Path, capsys) -> None:
    assert main(["contracts", "export", "--out", str(tmp_path / "a")]) == 0
    assert main(["contracts", "export", "--out", str(tmp_path / "b")]) == 0
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == ["frames.json", "rest.json"] * 2
    for name in ("frames.json", "rest.json"):
        first = (tmp_path / "a" / name).read_text()
        assert first == (tmp_path / "b" / name).read_text()
        assert first.endswith("}\n")
        assert "MessageCreate" in json.dumps(json.loads((tmp_path / "a" / "rest.json").read_text()))
