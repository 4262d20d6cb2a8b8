"""The `boocode` command: serve, worker, run, workflow, cancel, db upgrade, contracts export.

Only argparse is imported up front: `boocode --help` and a refused command answer at once, and
each command imports what it needs (DBOS, FastAPI, SQLAlchemy, the model SDK) when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from boocode import __version__
from boocode.errors import StartupRefused

if TYPE_CHECKING:
    from boocode.config import Settings

EXIT_USAGE = 2


class _Refused(Exception):
    """A command refused before it starts; its message is the one line the user sees."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = _checked_settings(args)
    except _Refused as exc:
        print(f"boocode {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args, settings) or 0)
    except StartupRefused as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boocode",
        description="BooCode: a self-hosted AI coding-agent server with durable, traced turns.",
        epilog=(
            "Configuration comes from the environment: BOOCODE_DATA_DIR, BOOCODE_DATABASE_URL, "
            "BOOCODE_WORKSPACE, BOOCODE_BASE_URL, BOOCODE_API_KEY, BOOCODE_MODEL, "
            "DEEPSEEK_API_KEY, BOOCODE_TOKEN. With no API key the offline demo model answers."
        ),
    )
    parser.add_argument("--version", action="version", version=f"boocode {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where BooCode keeps its state")
    parser.add_argument("--database-url", help="SQLite (default) or postgresql://… URL")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the server and the web client")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to bind (default 8765; 0: any free port)")
    serve.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    serve.add_argument(
        "--no-worker", action="store_true", help="serve the API only; leave turns to workers"
    )
    serve.set_defaults(handler=_serve, needs_workspace=True, uses_data_dir=True)

    worker = sub.add_parser("worker", help="run turns from the shared queue (PostgreSQL)")
    worker.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    worker.add_argument("--executor-id", help="a name unique to this worker process")
    worker.set_defaults(handler=_worker, needs_workspace=True, uses_data_dir=True)

    run = sub.add_parser("run", help="run one turn in this process and print the answer")
    run.add_argument("prompt", help="what to ask the agent")
    run.add_argument("--chat", help="continue this chat (its id is printed on stderr)")
    run.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    run.add_argument("--json", action="store_true", help="print one JSON object per event")
    run.add_argument(
        "--attach",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="attach an image or a text file to the prompt (repeatable)",
    )
    run.set_defaults(handler=_run, needs_workspace=True, uses_data_dir=True)

    workflow = sub.add_parser("workflow", help="list, show and run workflows")
    workflow_sub = workflow.add_subparsers(
        dest="workflow_command", metavar="SUBCOMMAND", required=True
    )
    listing = workflow_sub.add_parser("list", help="the workflows found, and the built-in ones")
    listing.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    listing.set_defaults(handler=_workflow_list, needs_workspace=True)
    show = workflow_sub.add_parser("show", help="what a workflow does and its phases")
    show.add_argument("name")
    show.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    show.set_defaults(handler=_workflow_show, needs_workspace=True)
    start = workflow_sub.add_parser("run", help="run a workflow here, its progress printed")
    start.add_argument("name")
    start.add_argument("--args", type=_json_value, default=None, help="the script's args, as JSON")
    start.add_argument("--resume", metavar="RUN_ID", help="reuse the unchanged agents of a run")
    start.add_argument("--budget", type=_positive, help="output tokens all its agents may spend")
    start.add_argument("--chat", help="run it in this chat (default: a new one)")
    start.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    start.set_defaults(handler=_workflow_run, needs_workspace=True, uses_data_dir=True)

    cancel = sub.add_parser(
        "cancel", help="stop a chat's running turn, even while no server or worker runs it"
    )
    cancel.add_argument("chat", help="the chat id")
    cancel.set_defaults(handler=_cancel, uses_data_dir=True)

    db = sub.add_parser("db", help="storage commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    upgrade = db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.set_defaults(handler=_db_upgrade, uses_data_dir=True)

    contracts = sub.add_parser("contracts", help="REST and WebSocket contract commands")
    contracts_sub = contracts.add_subparsers(dest="contracts_command", required=True)
    export = contracts_sub.add_parser("export", help="write the JSON Schemas to docs/contracts")
    export.add_argument("--out", type=Path, default=Path("docs/contracts"))
    export.set_defaults(handler=_contracts_export)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return port


def _json_value(text: str) -> object:
    import json

    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _checked_settings(args: argparse.Namespace) -> Settings:
    if args.command == "run":
        _check_prompt(args.prompt)
    settings = _settings(args)
    if getattr(args, "needs_workspace", False):
        _check_workspace(settings.workspace)
    if getattr(args, "uses_data_dir", False):
        _check_data_dir(settings.data_dir)
    return settings


def _check_prompt(prompt: str) -> None:
    """The message contract decides; its reason becomes the one line printed."""
    from pydantic import ValidationError

    from boocode.contracts.chats import MessageCreate

    try:
        MessageCreate(content=prompt)
    except ValidationError as exc:
        raise _Refused(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None


def _settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    from boocode.config import Settings, describe_invalid

    overrides = {
        "data_dir": getattr(args, "data_dir", None),
        "database_url": getattr(args, "database_url", None),
        "workspace": getattr(args, "workspace", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "executor_id": getattr(args, "executor_id", None),
    }
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        raise _Refused(f"invalid setting: {describe_invalid(exc)}") from None


def _check_data_dir(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise _Refused(f"the data directory {data_dir} is not a directory")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _Refused(f"cannot use the data directory {data_dir}: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise _Refused(f"cannot write to the data directory {data_dir}")


def _check_workspace(workspace: Path) -> None:
    if not workspace.exists():
        raise _Refused(f"the workspace {workspace} does not exist")
    if not workspace.is_dir():
        raise _Refused(f"the workspace {workspace} is not a directory")
    if not os.access(workspace, os.R_OK | os.X_OK):
        raise _Refused(f"the workspace {workspace} cannot be read")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.server.main import serve

    return serve(settings, process_turns=not args.no_worker)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    return asyncio.run(_work(settings))


async def _work(settings: Settings) -> int:
    import asyncio
    import signal

    from boocode import engine
    from boocode.config import redact_url
    from boocode.sandbox import warn_if_unconfined

    rt = await engine.start(settings, role="worker")
    print(
        f"boocode worker {rt.executor_id} running turns from "
        f"{redact_url(settings.resolved_database_url)}",
        file=sys.stderr,
    )
    warn_if_unconfined(settings, sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await engine.stop(rt)
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from boocode.runner import run_once

    return asyncio.run(
        run_once(settings, args.prompt, chat_id=args.chat, as_json=args.json, attach=args.attach)
    )


def _workflow_list(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.workflow_runner import list_workflows

    return list_workflows(settings, Path.home())


def _workflow_show(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.workflow_runner import show_workflow

    return show_workflow(settings, Path.home(), args.name)


def _workflow_run(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from boocode.sandbox import warn_if_unconfined
    from boocode.workflow_runner import run_workflow

    warn_if_unconfined(settings, sys.stderr)
    return asyncio.run(
        run_workflow(
            settings,
            Path.home(),
            args.name,
            args=args.args,
            resume_from=args.resume,
            budget=args.budget,
            chat_id=args.chat,
        )
    )


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from boocode.config import redact_url
    from boocode.db.preflight import open_database

    async def upgrade() -> None:
        db = await open_database(settings)
        await db.dispose()
        print(f"database at {redact_url(settings.resolved_database_url)} is up to date")

    asyncio.run(upgrade())
    return 0


def _cancel(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from boocode.db.preflight import open_database
    from boocode.runs import store

    async def cancel() -> int:
        db = await open_database(settings)
        try:
            run = await store.active_turn(db, args.chat)
            if run is None or not await store.request_cancel(db, run.id):
                print(f"chat {args.chat} has no running turn", file=sys.stderr)
                return 1
        finally:
            await db.dispose()
        print(f"turn {run.turn_number} of chat {args.chat} will stop at its next step")
        return 0

    return asyncio.run(cancel())


def _contracts_export(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.contracts.schema import export_schemas

    for path in export_schemas(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
