"""The read-only HTTP API over the database that `dca build` writes."""
