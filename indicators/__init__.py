"""Pathwise indicators: pure Polars functions from import-format frames to indicator frames.

No I/O, no database, no user interface: frames in, frames out. The contract is
../shared/spec/indicators.md (rules), access.md (small cells) and cli.md (output shapes).
"""
