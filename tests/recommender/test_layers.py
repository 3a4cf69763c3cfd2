"""The layers point one way: the pure-ML layer imports no Django and nothing above it, config imports no app (but
for URL composition), and no module of ``recommender/`` imports itself back through others."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "recommender"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (lazy imports in functions count too), except under
    ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    type_checking = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                     and getattr(block.test, "id", None) == "TYPE_CHECKING" for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in APP.rglob("*.py") if "migrations" not in path.parts}
    return {name: {imported for imported in _imports(path) if imported in modules and imported != name}
            for name, path in modules.items()}


def test_recommender_has_no_import_cycles():
    graph = _graph()
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append(" -> ".join(trail[trail.index(imported):] + [imported]))
            elif imported not in state:
                visit(imported, trail + [imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_training_layer_imports_no_django_and_nothing_above_it():
    above = ("django", "rest_framework", "celery", "recommender.services", "recommender.selectors",
             "recommender.models", "recommender.vectors", "recommender.api", "recommender.admin")
    offending = {
        _module_name(path): sorted(m for m in _imports(path) if m.startswith(above))
        for path in (APP / "training").rglob("*.py")
    }
    assert {module: found for module, found in offending.items() if found} == {}


def test_the_training_layer_loads_without_django_configured():
    code = (
        "import sys, recommender.training, recommender.training.data, recommender.training.evaluation, "
        "recommender.training.layout, recommender.training.quality, recommender.training.scoring, "
        "recommender.training.shelf_model\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "[]"


def test_config_imports_no_domain_outside_url_composition():
    routes = {"api_router.py", "urls.py"}
    offending = {
        path.name: sorted(m for m in _imports(path) if m.split(".")[0] in ("books", "recommender"))
        for path in (ROOT / "config").rglob("*.py") if path.name not in routes
    }
    assert {name: found for name, found in offending.items() if found} == {}
