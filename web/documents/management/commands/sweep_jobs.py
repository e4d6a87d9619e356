"""``sweep_jobs``: re-publish stale queued jobs and reclaim lost running ones.

Run it from a timer (the NixOS module's ``duet-sweep``) or, where no timer exists, as a
long-lived process with ``--interval``.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from documents.sweeper import sweep
from shared_resource.connections import reconnecting


class Command(BaseCommand):
    help = "Re-publish queued jobs nobody picked up and reclaim jobs whose worker was lost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Sweep every INTERVAL seconds until stopped, instead of once.",
        )

    def handle(self, *args: Any, interval: float | None, **options: Any) -> None:
        while True:
            # Outside a request nothing recycles connections: drop an old or broken one
            # before each sweep, and sweep again on a new one if the kept one is found dead
            # (a restarted PostgreSQL): a sweep is idempotent.
            close_old_connections()
            try:
                result = reconnecting(sweep)
            except Exception as exc:
                if interval is None:
                    raise
                self.stderr.write(f"sweep failed ({type(exc).__name__}: {exc}); retrying")
            else:
                if options["verbosity"] > 1 or interval is None:
                    self.stdout.write(
                        f"republished={result.republished} reclaimed={result.reclaimed} "
                        f"failed={result.failed} unpublished={result.unpublished}"
                    )
            if interval is None:
                return
            time.sleep(interval)
