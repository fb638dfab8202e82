"""Persistence: the SQL database is the source of truth (SQLite by default, PostgreSQL in production)."""
