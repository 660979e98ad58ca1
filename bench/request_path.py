"""How much Upsolve adds to the request path: four configurations compared in one run.

::

    python bench/request_path.py [--latency 80] [--users 20] [--refreshed 10000] [--quick]

About 10 minutes by default on two cores; ``--quick`` about 5. Needs PostgreSQL and Redis
running (``--pg-url``, ``--redis-url``), and gunicorn and django-tasks-db installed besides
the test extras.

Stack: PostgreSQL (a throwaway database per configuration and phase, cloned from a migrated
template), Redis (the cache, so django-upsolve's ``CACHE_ALIAS``), gunicorn (2 workers × 4
threads, gthread) per configuration, and ``manage.py db_worker`` (django-tasks-db) for the
background one. Upsolve is a stand-in (``pathbench/standin.py``) that answers the contract's
three calls after ``--latency`` ms and counts every call. It listens on one port per
configuration's web processes and one for the worker, so a call is attributed to the process
that made it; each request the bench makes carries an ``X-Bench-View`` id, which the site
passes on to any Upsolve call made while serving it (``pathbench/tagging.py``), so a call is
also attributed to the page view or login that waited on it.

The configurations (the same page, with the dashboard embedded in each one's way):

- no app: no Upsolve at all, the baseline;
- seed middleware: Upsolve's own example (its Clerk middleware) in Django: ``/user-token`` on
  every authenticated request; on a 404, ``/register-user`` and ``/user-token`` again;
- app, inline: django-upsolve, ``SYNC_ON_LOGIN = True``;
- app, background: django-upsolve, ``SYNC_ON_LOGIN = "background"``.

Phases:

1. Latency, one request at a time, configurations interleaved: first logins, logins again,
   then dashboard views with a fresh token. Tokens live an hour, as by default.
2. Throughput: ``--clients`` concurrent clients load the dashboard page for a few seconds per
   configuration, in rounds; each round's rate is compared with no app's in the same round.
   Twice: the bare page (a heading and the embed), then the same page with what real pages
   have around an embed, a query and a table of ``--rows`` rows (100: about as long as a
   plain Django page takes to render). The embed costs the same on both; its share differs.
3. Activity, with the clock sped up ``--scale`` times (an hour lasts 30 s by default; token
   lifetime, refresh margin and active window are scaled alike): ``--users`` new users per
   configuration each log in and load the dashboard about 30 times in their first hour; the
   next day (every timestamp moved a day back, sessions ended) the same users come back: one
   login, then about 30 views an hour for ``--hours`` hours. Counted: Upsolve calls per 1,000
   views, the share of views during which the web process called Upsolve, the share that
   showed the pending frame. django-upsolve's sweeps run at least 5 s apart, whatever the
   margin, so at 120× background mode refreshes a token after about 17 of its 30 s, where
   in real time it would after 3,000 of 3,600 s: its call counts here are an upper bound.
4. Worker memory: ``--refreshed`` users with due tokens, seen a minute ago; one proactive
   refresh sweep through the ``db_worker``, whose RSS is sampled twice a second. The stand-in
   answers these calls after ``--refresh-latency`` ms, 0 by default: memory does not depend
   on it, but the worker runs one task at a time, so 10,000 calls of 80 ms would add 13 min.

Everything started is stopped, and every database dropped, however the run ends.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pathbench import phases
from pathbench.phases import Record
from pathbench.report import Results, print_report
from pathbench.stack import Stack, open_stack

Progress = Callable[[str], None]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--latency", type=float, default=80.0, help="stand-in latency, ms (default 80)")
    add("--users", type=int, default=20, help="simulated users per configuration, phase 3")
    add("--refreshed", type=int, default=10_000, help="users the worker refreshes, phase 4")
    add("--refresh-latency", type=float, default=0.0, help="stand-in latency in phase 4, ms")
    add("--logins", type=int, default=40, help="users timed logging in, per configuration")
    add("--views", type=int, default=300, help="timed views per configuration")
    add("--clients", type=int, default=16, help="concurrent clients, throughput")
    add("--window", type=float, default=4.0, help="seconds per throughput window")
    add("--rounds", type=int, default=3, help="throughput windows per configuration")
    add("--rows", type=int, default=100, help="table rows of the second throughput page (0: none)")
    add("--scale", type=float, default=120.0, help="clock speed-up in phase 3 (120: 1 h = 30 s)")
    add("--hours", type=float, default=8.0, help="length of the working day, hours")
    add("--seed", type=int, default=9, help="random seed (orders, arrivals)")
    add("--quick", action="store_true", help="fewer users, views and hours: about 5 minutes")
    add("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    add("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.quick:
        args.users, args.refreshed, args.logins, args.views = 10, 2000, 20, 200
        args.rounds, args.window, args.hours = 2, 3.0, 4.0
    return args


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:4.0f} s] {message}", file=sys.stderr, flush=True)

    with open_stack(args.pg_url, args.redis_url, args.latency / 1000) as stack:
        progress("phases 1-2: latency and throughput, tokens of an hour")
        latency, throughput, rates = real_time(stack, args, rng)
        first_hour, day = activity(stack, args, rng, progress)
        progress(f"phase 4: worker memory while {args.refreshed} users are refreshed")
        memory = phases.worker_memory(stack, args.refreshed, args.refresh_latency / 1000)
        progress("done; stopping everything")
    print_report(Results(latency, throughput, rates, first_hour, day, memory), headings(args))


def real_time(
    stack: Stack, args: argparse.Namespace, rng: random.Random
) -> tuple[Record, Record, dict[int, dict[str, list[float]]]]:
    """Phases 1 and 2, on sites with real-time settings (tokens of an hour)."""
    with stack.deploy("real", 1.0) as sites:
        phases.create_users(stack, sites, "warm", 1)
        phases.create_users(stack, sites, "lat", args.logins)
        phases.warm_up(sites)
        phases.wait_idle(stack, sites)
        stack.standin.reset()
        latency, browsers = phases.request_latency(stack, sites, args.logins, args.views, rng)
        latency.calls = stack.standin.calls()
        stack.standin.reset()
        throughput, rates = Record(), {}
        for rows in dict.fromkeys((0, args.rows)):  # the bare page, then one with a table
            record, rates[rows] = phases.throughput(
                browsers, args.window, args.rounds, args.clients, rng, rows
            )
            throughput.hits.extend(record.hits)
        throughput.calls = stack.standin.calls()
    return latency, throughput, rates


def activity(
    stack: Stack, args: argparse.Namespace, rng: random.Random, progress: Progress
) -> tuple[Record, Record]:
    """Phase 3, on sites whose clock runs ``--scale`` times faster: a first hour, then a day."""
    with stack.deploy("scaled", args.scale) as sites:
        phases.create_users(stack, sites, "day", args.users)
        records = []
        for first, hours in ((True, 1.0), (False, args.hours)):
            if first:
                progress(f"phase 3: first hour of {args.users} new users per configuration")
            else:
                for site in sites.values():
                    stack.manage(site.config, site.database, "bench_db", "next_day")
                progress(f"phase 3: their working day the next day, {args.hours:g} hours")
            stack.standin.reset()
            hits = phases.simulate(
                sites, "day", args.users, hours=hours, scale=args.scale, rng=rng, first=first
            )
            phases.wait_idle(stack, sites, args.scale)
            records.append(Record(hits, stack.standin.calls()))
    return records[0], records[1]


def headings(args: argparse.Namespace) -> dict[str, str]:
    """The report's headings, naming the conditions of this run."""
    hour = 3600 / args.scale
    return {
        "title": (
            f"Upsolve on the request path. Stand-in Upsolve answering in {args.latency:g} ms; "
            "PostgreSQL, Redis, gunicorn 2 workers x 4 threads (gthread), django-tasks-db "
            "db_worker."
        ),
        "latency": (
            f"Latency, one request at a time, configurations interleaved ({args.logins} users, "
            f"{args.views} views each):"
        ),
        "throughput": (
            f"Throughput of the dashboard page, {args.clients} concurrent clients, "
            f"{args.rounds} windows of {args.window:g} s each per configuration and page:"
        ),
        "activity": (
            f"Page views ({args.users} users per configuration; phase 3's clock "
            f"{args.scale:g}x: an hour lasts {hour:g} s, tokens and windows scaled alike):"
        ),
        "calls": "Upsolve calls per 1,000 page views:",
        "memory": (
            f"Worker memory (db_worker RSS) while {args.refreshed} users are refreshed "
            f"(stand-in latency {args.refresh_latency:g} ms):"
        ),
        "targets": "Targets (background mode; ratios of this run):",
    }


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Everything is already stopped and dropped.
        sys.exit(130)
