"""Persistence: SQLAlchemy tables, the database handle and migrations."""
