"""A deterministic synthetic school district ("mock students") in the import format.

`generate.district(...)` yields pure Polars frames whose columns are exactly those of
docs/import-format.md, in chunks small enough to keep memory flat at a million
students. `data_access.demo_build` writes them to the database; `--csv DIR` writes them as
files a data steward can read and re-import.
"""
