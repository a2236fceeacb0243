"""The app uses only the public API of its dependencies: an underscore name of SQLAlchemy, WeasyPrint, pypdf or
any other can change in any release. The one guarded exception lives in attendance/documents/weasyprint_ua.py (a version
check, a test, and the measured figure that justifies it)."""

import ast
import importlib
import sys
from pathlib import Path

import pytest

import attendance

PACKAGE = Path(attendance.__file__).parent
GETTERS = {"getattr", "setattr", "hasattr", "delattr"}


def private_names_of_others(source: str) -> list[str]:
    """`x._name` where `x` is not `self` or `cls`, `getattr(x, "_name")`, and `from module import _name`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTERS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
            and not str(node.args[1].value).startswith("__")
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            found += [f"line {node.lineno}: import {alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


@pytest.mark.parametrize("module", ["pdf.py", "pdf_concat.py", "qr.py", "stored_pdfs.py"])
def test_document_makers_use_no_private_name_of_a_dependency(module):
    assert private_names_of_others((PACKAGE / "documents" / module).read_text(encoding="utf-8")) == []


def test_the_check_sees_a_private_attribute():
    assert private_names_of_others("data = obj._data\nself._ok = 1\ngetattr(page, '_box', None)") == [
        "line 1: ._data",
        "line 3: getattr(..., '_box')",
    ]


# The rule for the whole package: no name of a dependency that starts with an underscore, but in the guarded modules.
GUARDED_MODULES = {"documents/weasyprint_ua.py"}  # WeasyPrint's user-agent stylesheet hook, version-checked and tested
PUBLIC_UNDERSCORE_NAMES = {
    "_": "Flask-Babel's gettext, by the convention every gettext tool reads",
    "_l": "Flask-Babel's lazy_gettext, imported under the name babel.cfg extracts",
    "_get_current_object": "Werkzeug's documented way to take the object behind a LocalProxy (current_app)",
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC_UNDERSCORE_NAMES


def _is_dependency(module: str) -> bool:
    top = module.split(".")[0]
    return top != "attendance" and top not in sys.stdlib_module_names


def dependency_private_names(source: str) -> list[str]:
    """Where `source` uses an underscore name of a third-party package: an attribute reached from a name imported
    from one (`HTML._ua_stylesheets`, `sa.orm._x`), an import of one (`from pypdf import _x`, `from pypdf._page
    import y`), a method of that name in a subclass of one of its classes (an override of its private hook), and
    getattr/setattr/hasattr/delattr with such a name."""
    tree = ast.parse(source)
    imported: dict[str, str] = {}  # local name -> the dependency's dotted name it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_dependency(alias.name):
                    top = alias.name.split(".")[0]
                    imported[alias.asname or top] = alias.name if alias.asname else top
                    if any(_is_private(part) for part in alias.name.split(".")):
                        found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _is_dependency(node.module):
            if any(_is_private(part) for part in node.module.split(".")):
                found.append(f"line {node.lineno}: from {node.module}")
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if _is_private(alias.name):
                    found.append(f"line {node.lineno}: import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ClassDef):
            bases = [_dependency_object(ast.unparse(base), imported) for base in node.bases]
            for item in node.body:
                overrides = any(hasattr(base, getattr(item, "name", "")) for base in bases if base is not None)
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_private(item.name) and overrides:
                    found.append(f"line {item.lineno}: def {item.name}, a private name of a dependency's class")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTERS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and _is_private(str(node.args[1].value))
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


def _dependency_object(expression: str, imported: dict[str, str]) -> object | None:
    """The dependency's object that a base class such as `HTML` or `sa.orm.DeclarativeBase` names; None for others."""
    first, *rest = expression.split(".")
    if first not in imported:
        return None
    dotted = imported[first].split(".") + rest
    for split in range(len(dotted), 0, -1):  # the longest importable module, then attributes
        try:
            obj = importlib.import_module(".".join(dotted[:split]))
        except ImportError:
            continue
        for name in dotted[split:]:
            obj = getattr(obj, name)
        return obj
    return None


@pytest.mark.parametrize(
    "module",
    sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if str(path.relative_to(PACKAGE)) not in GUARDED_MODULES
    ),
)
def test_no_module_uses_a_private_name_of_a_dependency(module):
    assert dependency_private_names((PACKAGE / module).read_text(encoding="utf-8")) == []


def test_the_rule_sees_each_way_of_reaching_a_private_name():
    source = """
import sqlalchemy as sa
from pypdf import PdfReader, _page
from pypdf._utils import b_
from weasyprint import HTML
from flask import current_app
from flask_babel import lazy_gettext as _l

class Trimmed(HTML):
    def _ua_stylesheets(self):
        return self._private_of_ours

compiled = sa.select(1).compile()._bind_processors
reader = PdfReader(path)
getattr(reader, "_root_object")
app = current_app._get_current_object()
label = _l("Name")
mine = Mine()._cache
"""
    assert dependency_private_names(source) == [
        "line 3: import _page",
        "line 4: from pypdf._utils",
        "line 10: def _ua_stylesheets, a private name of a dependency's class",
        "line 13: ._bind_processors",
        "line 15: getattr(..., '_root_object')",
    ]


def test_the_guarded_module_is_the_one_the_rule_sees():
    """weasyprint_ua.py overrides WeasyPrint's private hook: the rule finds it, which is why it is the guarded one."""
    found = dependency_private_names((PACKAGE / "documents" / "weasyprint_ua.py").read_text(encoding="utf-8"))
    assert found and all("_ua_stylesheets" in line for line in found)


# The stdlib's enum keeps its lookup tables under names it does not document; its public ways are `Mode(value)`
# (ValueError) and iterating the members.
ENUM_INTERNALS = {"_value2member_map_", "_member_map_", "_member_names_", "_unhashable_values_"}


def test_no_module_reads_the_enum_modules_private_tables():
    found = [
        f"{path.relative_to(PACKAGE)} line {node.lineno}: .{node.attr}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ENUM_INTERNALS
    ]
    assert found == []
