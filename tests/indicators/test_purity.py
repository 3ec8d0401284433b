"""The indicators package stays pure: frames in, frames out, no I/O layer imported."""

from __future__ import annotations

import ast
from pathlib import Path

import indicators

FORBIDDEN = {"sqlmodel", "sqlalchemy", "sqlite3", "psycopg", "alembic", "streamlit", "data_access"}


def test_no_module_of_the_package_imports_a_database_or_the_user_interface() -> None:
    package = Path(indicators.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
