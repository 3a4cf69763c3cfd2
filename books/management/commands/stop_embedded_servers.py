from django.core.management.base import BaseCommand

from config.embedded import VAR_DIR, stop_embedded_servers


class Command(BaseCommand):
    help = "Stop the embedded PostgreSQL and Redis that the local settings started (scripts/run calls this)."

    def handle(self, *args, **options):
        stop_embedded_servers(VAR_DIR / "pgdata", VAR_DIR / "redis")
        self.stdout.write("Embedded PostgreSQL and Redis stopped.")
