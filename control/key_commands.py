"""python -m control keys create --role ROLE [--account N] [--name TEXT]
python -m control keys revoke KEY_ID
python -m control keys list [--account N]

On DATABASE_URL, or else on the embedded PostgreSQL in $SMARTURLS_DATA_DIR:
started for the command if the control plane is not running it (and stopped
again after), shared with it if it is. `create` prints the key on stdout, once;
only its SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

import asyncpg

from control.domain.api_keys import ROLES, ApiKey, create_api_key, list_api_keys, revoke_api_key
from control.domain.errors import DomainError
from control.server import database
from control.settings import data_dir_from_env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m control keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key and print it (only this once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--account", type=int, help="required for sender, dashboard, merchant")
    create.add_argument("--name", default="", help="who holds it, for `list`")
    revoke = commands.add_parser("revoke", help="refuse the key from its next call on")
    revoke.add_argument("key_id")
    listing = commands.add_parser("list", help="keys with role, account and state")
    listing.add_argument("--account", type=int)
    return parser


def _describe(key: ApiKey) -> str:
    account = "all" if key.account_id is None else str(key.account_id)
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    return (
        f"{key.key_id}  {key.role:9}  account {account:>6}  "
        f"created {key.created_at:%Y-%m-%d %H:%M}  {state:24}  {key.name}"
    )


async def _run(args: argparse.Namespace, db: asyncpg.Pool) -> None:
    if args.command == "create":
        secret, stored = await create_api_key(db, args.role, args.account, args.name)
        print(secret, flush=True)
        print(f"created {_describe(stored)}\nstore it now: it is not shown again", file=sys.stderr)
    elif args.command == "revoke":
        print(f"revoked {_describe(await revoke_api_key(db, args.key_id))}")
    else:
        for listed in await list_api_keys(db, args.account):
            print(_describe(listed))


async def _main(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    async with database(env.get("DATABASE_URL") or None, data_dir_from_env(env)) as (db, _):
        await _run(args, db)


def keys_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    # "stopped" would mislead here: with the control plane running, the embedded
    # server keeps running and only this command's handle on it goes.
    logging.getLogger("control.db.embedded").setLevel(logging.WARNING)
    try:
        asyncio.run(_main(args))
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
