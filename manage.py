#!/usr/bin/env python
"""Django's command-line utility for Bookvec."""
import os
import sys

# Commands that need no database: they must not start the embedded servers (one of them stops them).
WITHOUT_SERVERS = {"stop_embedded_servers", "help", "version", "--help", "-h", "--version"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if len(sys.argv) > 1 and sys.argv[1] not in WITHOUT_SERVERS:
        from config.embedded import embedded_servers_export_if_local

        embedded_servers_export_if_local()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
