"""The feedback and audit store, on SQLite and on PostgreSQL."""
