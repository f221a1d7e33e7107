"""python -m control reclassify --since TIME [--account ID]

Classifies the hits stored since TIME again, with the classifier's data and
rules as they are now, and puts right what depended on them: shares and
conversions withdrawn or restored through the attribution rules, messages'
first clicks, and the rollups (rebuilt from the raw facts, as reconcile would
compute them). Run it after upgrading the classifier; it locks the rollups
against ingest while it runs.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from control.domain.reclassify import reclassify
from control.server import database
from control.settings import ControlSettings


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def run(settings: ControlSettings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m control reclassify", description=__doc__)
    parser.add_argument(
        "--since", type=_time, required=True, help="ISO time, UTC unless it says (2026-12-01)"
    )
    parser.add_argument("--account", type=int, help="default: every account")
    args = parser.parse_args(argv)
    async with (
        database(settings.database_url, settings.data_dir) as (pool, _),
        pool.acquire() as conn,
    ):
        done = await reclassify(conn, args.since, args.account)
    moved = sum(done.moves.values())
    print(f"{done.hits_read} hit(s) read since {args.since:%Y-%m-%d %H:%M}Z; {moved} changed class")
    for (before, now), count in sorted(done.moves.items()):
        print(f"  {before} -> {now}: {count}")
    print(
        f"outcomes withdrawn: {done.withdrawn}, restored: {done.restored},"
        f" shares added: {done.shares_added}"
    )
    if done.accounts:
        print(f"rollups rebuilt for account(s) {', '.join(map(str, done.accounts))}")
    return 0
