import signal
import threading

from django.core.management.base import BaseCommand

from config.embedded import VAR_DIR, embedded_servers_export, stop_embedded_servers


class Command(BaseCommand):
    help = ("Start (or find) the embedded PostgreSQL and Redis, keep this process up while they should run, and "
            "stop them when it is stopped (SIGTERM or Ctrl-C). The supervisor of scripts/run starts it first "
            "and stops it last.")

    def handle(self, *args, **options):
        embedded_servers_export(VAR_DIR)
        stopped = threading.Event()
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, lambda *_: stopped.set())
        self.stdout.write(f"Embedded PostgreSQL and Redis are up in {VAR_DIR}.", ending="\n")
        self.stdout.flush()
        stopped.wait()
        stop_embedded_servers(VAR_DIR / "pgdata", VAR_DIR / "redis")
        self.stdout.write("Embedded PostgreSQL and Redis stopped.")
