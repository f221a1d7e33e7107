"""The click pipeline under three shapes of traffic, in one run:
python -m bench.pipeline_bench (python3 tasks.py bench-pipeline).

Clicks are fed to an edge's click buffer directly (no HTTP) and go through
gRPC IngestClicks into PostgreSQL, with the control plane and PostgreSQL on
every core. Three workloads, one after the other on the same database:
- spread: over 50,000 one-link messages, a few clicks each (a campaign's);
- one hot link: every click on one referral link (a viral share);
- one hot message: every click on one message's three links in turn (every
  click within two seconds of another link's: a burst, the rule's worst case).
Each prints clicks/s sustained until every click is stored, and checks that
stored == fed. The edge benchmark (bench.edge_bench) runs the same three.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from bench.edge_bench import (
    OTHERS_CPU,
    Services,
    create_key,
    pipeline_workloads,
    seed,
    spread_over_all_cores,
)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="smarturls-pipeline-"))
    services = Services(workdir)
    try:
        control = services.start("-m", "control", "serve", cpu=OTHERS_CPU)
        admin = await services.admin_key()
        async with services.channel(admin) as channel:
            await asyncio.wait_for(channel.channel_ready(), 120)
        tokens = await seed(services, admin, args.links, "s")
        services.env["SMARTURLS_CONTROL_API_KEY"] = create_key(services.env, "edge")
        dsn = f"postgresql://postgres@/postgres?host={workdir / 'pgdata'}"
        spread_over_all_cores(control.pid, workdir)
        await pipeline_workloads(services, admin, dsn, tokens, args.clicks)
    except BaseException:
        services.print_logs()
        raise
    finally:
        services.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--links", type=int, default=50_000)
    parser.add_argument("--clicks", type=int, default=300_000)
    asyncio.run(main(parser.parse_args()))
