"""The database: numbered SQL migrations and the connection pool."""
