"""Store layer: the audit of issued cards and the clinicians' feedback, in SQL.

SQLite (a file, WAL mode) by default; PostgreSQL when several workers or
replicas serve one deployment. Imported by the API layer and the CLI only.
"""
