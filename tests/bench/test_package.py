"""The bench package's shape: no import cycle among its modules, and no msgpack of its own (it reads
and writes groupchat frames only through ``shared``)."""

from __future__ import annotations

import ast
from pathlib import Path

import chat_server.bench

PACKAGE = Path(chat_server.bench.__file__).parent


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        graph[f"chat_server.bench.{path.stem}"] = names
    return graph


def test_the_bench_modules_import_each_other_without_a_cycle() -> None:
    graph = _imports()
    inside = {module: {n for n in names if n in graph} for module, names in graph.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for name in inside[module]:
                visit(name, (*path, module))
            done.add(module)

    for module in inside:
        visit(module, ())


def test_the_bench_never_parses_msgpack_itself() -> None:
    assert not [module for module, names in _imports().items() if any(n.split(".")[0] == "msgpack" for n in names)]
