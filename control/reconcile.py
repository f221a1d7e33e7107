"""python -m control reconcile [--account ID ...] [--fix | --rebuild]

Recomputes every hourly rollup from the raw facts (messages, clicks,
conversions) and prints each difference; exits 1 when there is one. --fix
writes the recomputed values over the differing ones; --rebuild replaces all
rollups of the accounts (after a bulk load, or an upgrade from before rollups).
Hours older than the click retention period are not compared for click
figures: their raw clicks may be gone.
"""

from __future__ import annotations

import argparse

from control.domain.partitions import ClickPartitions
from control.domain.rollup_repair import rebuild, reconcile
from control.server import database
from control.settings import ControlSettings


async def run(settings: ControlSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m control reconcile", description=__doc__)
    parser.add_argument("--account", type=int, action="append", help="default: every account")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--fix", action="store_true")
    mode.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    async with (
        database(settings.database_url, settings.data_dir) as (pool, _),
        pool.acquire() as conn,
    ):
        accounts = args.account or [
            r[0] for r in await conn.fetch("SELECT account_id FROM accounts ORDER BY 1")
        ]
        if args.rebuild:
            await rebuild(conn, accounts)
            print(f"rebuilt the rollups of {len(accounts)} account(s) from raw facts")
            return 0
        horizon = ClickPartitions(settings.click_retention_days).horizon()
        differences = await reconcile(conn, accounts, horizon, fix=args.fix)
    for d in differences:
        print(
            f"account {d.account_id} template {d.template_id} {d.hour:%Y-%m-%d %H:00}Z"
            f" {d.figure}: rollup {d.stored}, raw facts {d.recomputed}"
        )
    verdict = "fixed" if args.fix else "found"
    print(f"{len(differences)} difference(s) {verdict} over {len(accounts)} account(s)")
    return 1 if differences and not args.fix else 0
