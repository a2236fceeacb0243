"""The document makers use only the public API of their dependencies: an underscore name of WeasyPrint, pypdf or
qrcode can change in any release. The one guarded exception lives in attendance/documents/weasyprint_ua.py."""

import ast
from pathlib import Path

import pytest

import attendance

DOCUMENTS = Path(attendance.__file__).parent / "documents"
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
    assert private_names_of_others((DOCUMENTS / module).read_text(encoding="utf-8")) == []


def test_the_check_sees_a_private_attribute():
    assert private_names_of_others("data = obj._data\nself._ok = 1\ngetattr(page, '_box', None)") == [
        "line 1: ._data",
        "line 3: getattr(..., '_box')",
    ]
