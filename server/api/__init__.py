"""The HTTP API under /api/v1 and the console it serves."""
