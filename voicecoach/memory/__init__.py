"""Memory: the session history in SQLite and the data folder it lives in."""
