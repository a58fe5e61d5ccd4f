"""The house rules, checked on the source: layers point one way, pages use the facade, tasks are not branches."""

from __future__ import annotations

import ast
from pathlib import Path

from engine.tasks import TASK_NAMES
from tests.conftest import PIPELINES, ROOT


def _modules(folder: str) -> dict[str, Path]:
    out = {}
    for path in (ROOT / folder).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(source: Path | ast.AST) -> list[tuple[str, ast.AST]]:
    """Every module an import in a file (or parsed tree) names, functions included, with the node."""
    tree = ast.parse(source.read_text()) if isinstance(source, Path) else source
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, node)] + [(f"{node.module}.{alias.name}", node) for alias in node.names]
    return found


def _engine_graph() -> dict[str, set[str]]:
    modules = _modules("engine")
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for imported, _ in _imports(path):
            target = imported
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_engine_has_no_import_circles():
    assert _cycles(_engine_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_never_imports_streamlit_nor_the_ui():
    for name, path in _modules("engine").items():
        bad = [t for t, _ in _imports(path) if t.split(".")[0] in ("streamlit", "ui", "app_pages")]
        assert not bad, f"{name} imports {bad}"


def test_data_takes_tasks_from_its_callers():
    """engine/data/ may name the Task type for annotations, never import the registry at run time."""
    for name, path in _modules("engine/data").items():
        tree = ast.parse(path.read_text())
        guarded = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for n in ast.walk(block)
        }
        bad = [t for t, node in _imports(tree) if t.startswith("engine.tasks") and id(node) not in guarded]
        assert not bad, f"{name} imports {bad} at run time"


def test_pages_and_ui_use_only_the_engine_facade():
    for folder in ("app_pages", "ui"):
        for name, path in _modules(folder).items():
            internals = sorted({t for t, node in _imports(path) if t.startswith("engine.") and _is_module_import(node)})
            assert not internals, f"{name} imports engine internals {internals}: add what it needs to the facade"
    assert not [t for t, n in _imports(ROOT / "app.py") if t.startswith("engine.") and _is_module_import(n)]


def _is_module_import(node: ast.AST) -> bool:
    """``import engine.x`` / ``from engine.x import y`` (``from engine import VERBS`` names the facade)."""
    return isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "engine")


def test_no_code_outside_engine_tasks_names_a_task():
    """Task names as string literals (docstrings aside), and so ``task == "..."`` branches, live in engine/tasks/."""
    files = [p for folder in ("engine", "app_pages", "ui") for p in (ROOT / folder).rglob("*.py")]
    files.append(ROOT / "app.py")
    offenders = []
    for path in files:
        if (ROOT / "engine" / "tasks") in path.parents:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in TASK_NAMES and id(node) not in docstrings:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_every_verb_stays_callable_on_the_facade_after_every_module_is_imported():
    """``engine/report.py`` once shadowed the ``report`` verb: once anything imported ``engine.report``,
    ``engine.report(...)`` on the Runs page called the module ("'module' object is not callable")."""
    import importlib

    import engine

    for name in sorted(_modules("engine")):
        if not name.endswith("__main__"):
            importlib.import_module(name)
    shadowed = sorted(verb for verb, fn in engine.VERBS.items() if getattr(engine, verb) is not fn)
    assert not shadowed, f"engine submodules hide these verbs on the facade: {shadowed}"


def test_statuses_and_backends_are_compared_as_enums_not_string_literals():
    """``status == "completed"`` or ``backend != "openvino"`` typos fail silently: the engine and the pages compare
    with engine.status's StrEnums (stored and printed as the same plain strings)."""
    from engine.status import Backend, JobStatus, RunStatus, SearchStatus

    words = {str(m) for enum in (Backend, JobStatus, RunStatus, SearchStatus) for m in enum}

    def named(node: ast.AST) -> str:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            return str(node.slice.value)
        getter = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
        if getter and node.args:
            return str(getattr(node.args[0], "value", ""))
        return getattr(node, "attr", getattr(node, "id", ""))

    offenders = []
    for folder in ("engine", "app_pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Compare) and named(node.left) in ("status", "backend"):
                    literals = [c for c in node.comparators if isinstance(c, ast.Constant) and c.value in words]
                    offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for _ in literals]
    assert offenders == []


def test_each_task_is_one_package_that_the_registry_names_and_the_tests_cover():
    from engine.tasks import REGISTRY

    for name, where in REGISTRY.items():
        module = where.split(":")[0]
        assert module == f"engine.tasks.{name}.task", f"{name} is registered as {where}"
        assert (ROOT / "engine" / "tasks" / name / "task.py").is_file()
    assert set(PIPELINES) == set(TASK_NAMES), "tests/conftest.py PIPELINES needs a pipeline recipe per task"


def test_a_task_package_is_reached_only_through_the_registry():
    """No code outside the task packages imports one: the rest of the product asks ``get_task``. (A task may build
    on another's package, as instance segmentation builds on detection's boxes.)"""
    files = [p for folder in ("engine", "app_pages", "ui") for p in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]
    offenders = []
    for path in files:
        in_a_task = any((ROOT / "engine" / "tasks" / t) in path.parents for t in TASK_NAMES)
        for imported, node in _imports(path):
            parts = imported.split(".")
            if parts[:2] == ["engine", "tasks"] and len(parts) > 2 and parts[2] in TASK_NAMES and not in_a_task:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {imported}")
    assert offenders == []


def test_slow_tests_say_their_kind():
    """``slow`` is derived from the kind (e2e, browser, team: tests/conftest.py), never written by hand."""
    marked = [p.name for p in (ROOT / "tests").rglob("test_*.py") if "mark." + "slow" in p.read_text()]
    assert marked == []
