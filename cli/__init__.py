"""The `pathwise` command line: the same policy and audit as the pages."""
