"""The catalogue knows nothing of the layers above it: no module of books/ imports recommender/."""
import ast
from pathlib import Path

BOOKS = Path(__file__).resolve().parents[2] / "books"


def test_no_module_of_the_catalogue_imports_the_recommender():
    offenders = []
    for path in BOOKS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(BOOKS.parent)}: {name}" for name in names
                          if name == "recommender" or name.startswith("recommender.")]
    assert offenders == []
