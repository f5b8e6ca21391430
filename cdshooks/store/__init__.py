"""Persistence: feedback, the audit trail, seen JWT ids and DTR contexts, through SQLAlchemy Core on SQLite (the
default) or PostgreSQL (a real connection pool), the schema kept by Alembic migrations. Imports nothing of the
web layer or the policy engine."""

from cdshooks.store.store import Store, StoreDriverMissing, StoreError

__all__ = ["Store", "StoreDriverMissing", "StoreError"]
