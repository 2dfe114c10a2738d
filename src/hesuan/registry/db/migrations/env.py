"""Alembic environment: runs on the connection of :func:`hesuan.registry.db.engine.migrate`.

The connection is in ``config.attributes["connection"]``; migrations run programmatically at open.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
