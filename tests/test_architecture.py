"""The structural rules of DEVELOPERS.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DB_LIBRARIES = {"sqlmodel", "sqlalchemy", "sqlite3", "psycopg", "alembic", "adbc_driver_sqlite"}
UI_FILES = sorted(
    [*ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("ui").glob("*.py"), ROOT / "app.py"]
)
INDICATOR_FILES = sorted(ROOT.joinpath("indicators").glob("*.py"))
#: What the UI may import from data_access: the public API and the pure export formats.
UI_ALLOWED = {"data_access.api", "data_access.export_format", "data_access"}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "data_access":
                names.extend(f"data_access.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_ui_reach_data_only_through_the_public_api(path: Path) -> None:
    for name in imported_modules(path):
        assert name.split(".")[0] not in DB_LIBRARIES, f"{path.name} imports {name}"
        if name.startswith("data_access"):
            assert name in UI_ALLOWED, f"{path.name} imports {name}; use data_access.api"


@pytest.mark.parametrize("path", INDICATOR_FILES, ids=lambda p: p.name)
def test_indicators_are_pure_polars(path: Path) -> None:
    for name in imported_modules(path):
        root = name.split(".")[0]
        assert root not in DB_LIBRARIES | {"streamlit", "data_access"}, (
            f"{path.name} imports {name}"
        )


@pytest.mark.parametrize("path", sorted(ROOT.joinpath("pages").glob("*.py")), ids=lambda p: p.name)
def test_page_modules_render_nothing_at_import(path: Path) -> None:
    """Only imports, definitions, constants and a docstring at module level: a direct request
    for the page path (Streamlit runs `pages/*.py` by itself before navigation exists)
    therefore draws nothing."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        allowed = (
            ast.Import,
            ast.ImportFrom,
            ast.FunctionDef,
            ast.ClassDef,
            ast.Assign,
            ast.AnnAssign,
        )
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        assert isinstance(node, allowed) or is_docstring, (
            f"{path.name}:{node.lineno} runs code at import"
        )
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)]
            assert not calls, f"{path.name}:{node.lineno} calls a function at import"


def test_the_data_layer_is_the_only_one_that_owns_sql() -> None:
    offenders = []
    for folder in ("pages", "ui", "indicators", "demo_district", "domain"):
        for path in ROOT.joinpath(folder).glob("*.py"):
            text = path.read_text()
            if "SELECT " in text or "INSERT INTO" in text:
                offenders.append(path.name)
    assert offenders == []
