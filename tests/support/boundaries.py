"""Checks the code against backend/boundaries.py: which tables a module names in SQL, and what it imports.

SQL is found in every string constant of a module (f-strings' literal parts included): a table
is named where it follows FROM, JOIN, INTO, UPDATE, TABLE or COPY, or is given to asyncpg's
`copy_records_to_table`. Piccolo table classes count as naming their table when a module of
another domain imports them, except a tables.py declaring a foreign key. The job queue's tables
(B.QUEUE_TABLES) are owned the same way, and so are its SQL functions (`procrastinate_…(`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from backend import boundaries as B

BACKEND = Path(__file__).resolve().parents[2] / "backend"

OWNERS = {**B.TABLES, **B.QUEUE_TABLES}
_TABLE_NAMES = sorted(OWNERS, key=len, reverse=True)
_QUEUE_FUNCTION = re.compile(r"\b(" + B.QUEUE_PREFIX + r"\w+)\s*\(", re.IGNORECASE)
_SQL_TABLE = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|COPY)\s+(?:ONLY\s+)?\"?(" + "|".join(_TABLE_NAMES) + r")\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. backend.workorders.service
    unit: str  # the domain folder or base module it belongs to, e.g. workorders, db
    source: str

    @property
    def is_routes(self) -> bool:
        return self.name.rsplit(".", 1)[-1].endswith("routes")

    @property
    def is_tables(self) -> bool:
        return self.name.endswith(".tables")


def unit_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if parts[0] == "backend" and len(parts) > 1 else None


def modules() -> list[Module]:
    found = []
    for path in sorted(BACKEND.rglob("*.py")):
        dotted = ".".join(path.relative_to(BACKEND.parent).with_suffix("").parts)
        if dotted.endswith(".__init__"):
            dotted = dotted.removesuffix(".__init__")
        if dotted != "backend":
            found.append(Module(dotted, unit_of(dotted) or "", path.read_text()))
    return found


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def tables_named(source: str) -> set[str]:
    """Every table the module's SQL names."""
    tree = ast.parse(source)
    named = {m.group(1).lower() for text in _strings(tree) for m in _SQL_TABLE.finditer(text)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "copy_records_to_table" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in OWNERS):
            named.add(node.args[0].value)
    return named


def queue_functions_called(source: str) -> set[str]:
    """The job queue's SQL functions (procrastinate_…) the module's strings call."""
    return {m.group(1).lower() for text in _strings(ast.parse(source)) for m in _QUEUE_FUNCTION.finditer(text)}


def _is_module(dotted: str) -> bool:
    path = BACKEND.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported_modules(source: str, module: str) -> set[str]:
    """The backend modules the source imports, wherever the import statement is."""
    return {name if _is_module(name) else name.rsplit(".", 1)[0]
            for name in imports(source, module) if name != "backend"}


def imports(source: str, module: str) -> set[str]:
    """Every backend module or name the source imports (absolute, dotted), wherever the import is."""
    found = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{a.name}" for a in node.names)
    return {name for name in found if name.startswith("backend.") or name == "backend"}


def table_classes() -> dict[str, str]:
    """Piccolo table class (backend.x.tables.Name) -> table name."""
    from piccolo.table import Table

    import importlib

    classes = {}
    for module in modules():
        if module.is_tables and module.unit:
            loaded = importlib.import_module(module.name)
            for name, value in vars(loaded).items():
                if (isinstance(value, type) and issubclass(value, Table) and value is not Table
                        and value.__module__ == module.name):
                    classes[f"{module.name}.{name}"] = value._meta.tablename
    return classes


def ownership_violations(module: Module, classes: dict[str, str]) -> list[str]:
    """What `module` names that its domain does not own."""
    if module.unit in B.BULK_LOADERS:
        return []
    problems = []
    for table in sorted(tables_named(module.source)):
        owner = OWNERS[table]
        if owner != module.unit:
            problems.append(f"{module.name} names table {table} (owned by {owner})")
    if module.unit != B.QUEUE_OWNER:
        for function in sorted(queue_functions_called(module.source)):
            problems.append(f"{module.name} calls the queue's function {function} (owned by {B.QUEUE_OWNER})")
    if not module.is_tables and module.unit not in B.ROOTS:
        for name in sorted(imports(module.source, module.name)):
            table = classes.get(name)
            if table and B.TABLES[table] != module.unit:
                problems.append(f"{module.name} imports the table class {name} (owned by {B.TABLES[table]})")
    return problems


def _rank(unit: str) -> tuple[int, int] | None:
    if unit in B.BASE:
        return 0, B.BASE.index(unit)
    if unit in B.DOMAINS:
        return 1, B.DOMAINS.index(unit)
    return None


def layer_violations(module: Module) -> list[str]:
    """Imports that run from a lower layer up (or sideways between base modules)."""
    if module.unit in B.ROOTS:
        return []
    problems = []
    mine = _rank(module.unit)
    if mine is None:
        return [f"{module.name}: {module.unit} is in no layer of backend/boundaries.py"]
    for name in sorted(imported_modules(module.source, module.name)):
        unit = unit_of(name)
        if unit is None or unit == module.unit:
            continue
        theirs = _rank(unit)
        if name.rsplit(".", 1)[-1].endswith("routes"):
            problems.append(f"{module.name} imports {name}, another domain's routes")
        elif theirs is None:
            problems.append(f"{module.name} imports {name}, a composition root")
        elif mine[0] == 0 and theirs[0] == 1:
            problems.append(f"{module.name} (base) imports the domain module {name}")
        elif theirs >= mine and not (module.is_routes and theirs[0] == 1 and not name.split(".")[-1].endswith("routes")):
            problems.append(f"{module.name} imports {name} from a layer above or beside it")
    return problems
