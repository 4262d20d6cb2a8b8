"""The `boocode` command: serve, worker, run, db upgrade, contracts export."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from boocode import __version__
from boocode.config import Settings, redact_url
from boocode.errors import StartupRefused

EXIT_REFUSED = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    settings = _settings(args)
    try:
        return int(args.handler(args, settings) or 0)
    except StartupRefused as exc:
        print(f"boocode: {exc}", file=sys.stderr)
        return EXIT_REFUSED
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
    serve.add_argument("--port", type=int, help="port to bind (default 8765)")
    serve.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    serve.add_argument(
        "--no-worker", action="store_true", help="serve the API only; leave turns to workers"
    )
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="run turns from the shared queue (PostgreSQL)")
    worker.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    worker.add_argument("--executor-id", help="a name unique to this worker process")
    worker.set_defaults(handler=_worker)

    run = sub.add_parser("run", help="run one turn in this process and print the answer")
    run.add_argument("prompt", help="what to ask the agent")
    run.add_argument("--chat", help="continue this chat (its id is printed on stderr)")
    run.add_argument("--workspace", type=Path, help="project directory (default: cwd)")
    run.add_argument("--json", action="store_true", help="print one JSON object per event")
    run.set_defaults(handler=_run)

    cancel = sub.add_parser(
        "cancel", help="stop a chat's running turn, even while no server or worker runs it"
    )
    cancel.add_argument("chat", help="the chat id")
    cancel.set_defaults(handler=_cancel)

    db = sub.add_parser("db", help="storage commands")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    upgrade = db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    upgrade.set_defaults(handler=_db_upgrade)

    contracts = sub.add_parser("contracts", help="REST and WebSocket contract commands")
    contracts_sub = contracts.add_subparsers(dest="contracts_command", required=True)
    export = contracts_sub.add_parser("export", help="write the JSON Schemas to docs/contracts")
    export.add_argument("--out", type=Path, default=Path("docs/contracts"))
    export.set_defaults(handler=_contracts_export)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "data_dir": getattr(args, "data_dir", None),
        "database_url": getattr(args, "database_url", None),
        "workspace": getattr(args, "workspace", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "executor_id": getattr(args, "executor_id", None),
    }
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.server.main import serve

    return serve(settings, process_turns=not args.no_worker)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_work(settings))


async def _work(settings: Settings) -> int:
    from boocode import engine
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
    from boocode.runner import run_once
    from boocode.sandbox import warn_if_unconfined

    warn_if_unconfined(settings, sys.stderr)

    return asyncio.run(run_once(settings, args.prompt, chat_id=args.chat, as_json=args.json))


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from boocode.db.preflight import open_database

    async def upgrade() -> None:
        db = await open_database(settings)
        await db.dispose()
        print(f"database at {redact_url(settings.resolved_database_url)} is up to date")

    asyncio.run(upgrade())
    return 0


def _cancel(args: argparse.Namespace, settings: Settings) -> int:
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
