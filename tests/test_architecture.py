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
EXPORT_FILES = sorted(ROOT.joinpath("exports").glob("*.py"))
#: What the UI may import from data_access: the public API.
UI_ALLOWED = {"data_access.api", "data_access"}
#: The application's packages (tests and benchmarks sit on top of all of them).
PACKAGES = ("domain", "data_access", "indicators", "exports", "demo_district", "cli", "pages", "ui")


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


@pytest.mark.parametrize("path", EXPORT_FILES, ids=lambda p: p.name)
def test_export_formats_are_pure(path: Path) -> None:
    """`exports/` turns frames into files; it reads nothing and knows no viewer."""
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
    for folder in ("pages", "ui", "indicators", "exports", "demo_district", "domain"):
        for path in ROOT.joinpath(folder).glob("*.py"):
            text = path.read_text()
            if "SELECT " in text or "INSERT INTO" in text:
                offenders.append(path.name)
    assert offenders == []


def project_modules() -> dict[str, Path]:
    """Every module of the application by dotted name (`app` included; migrations, which
    Alembic loads by path, left out)."""
    modules = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for path in ROOT.joinpath(package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which project modules each module imports: at the top, inside functions and under
    `TYPE_CHECKING` alike (a cycle that only type checking sees is still a cycle). `from
    package import module` is an edge to the module; the package's own `__init__` runs for
    any of its modules and is not counted as an edge."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.add(child if child in modules else base)
        graph[module] = {t for t in map(resolve, targets) if t and t != module}
    return graph


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_itself_through_other_modules() -> None:
    """A leaf stays a leaf: `data_access.importing.problems` once imported `importing.api`
    (for the type of a result) while `api` imported `problems`; the results now live in
    `importing/results.py`, which needs only `problems`."""
    cycle = a_cycle(import_graph(project_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_packages_depend_on_each_other_in_one_direction() -> None:
    """`domain` under everything; `demo_district` builds frames from `domain` alone and never
    reaches back into `data_access`, which builds the demo from it (the progress callback
    type lives in `domain.progress` for both)."""
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph(project_modules()).items():
        source = module.split(".")[0]
        packages.setdefault(source, set()).update(
            t.split(".")[0] for t in targets if t.split(".")[0] != source
        )
    cycle = a_cycle(packages)
    assert cycle is None, "packages import each other: " + " -> ".join(cycle or [])
    assert packages.get("domain", set()) == set(), "domain imports the rest of the project"
