"""Alembic environment: runs on the connection :func:`hesuan.registry.db.engine.migrate`
passes in ``config.attributes["connection"]`` (migrations run programmatically at open).
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
