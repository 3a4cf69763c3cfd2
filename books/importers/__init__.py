"""Importers: files in, validated and upserted catalogue rows out (see ``common`` for the shared rules)."""
