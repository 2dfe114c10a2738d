"""Storage of the registry: SQLAlchemy tables, Alembic migrations, engine set-up."""
