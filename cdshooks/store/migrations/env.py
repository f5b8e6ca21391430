"""Alembic environment: always run with the connection the caller passes (cdshooks.store.migrate)."""

from alembic import context

from cdshooks.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
