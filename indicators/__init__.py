"""Pure Polars indicator functions (no I/O)."""
