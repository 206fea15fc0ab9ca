"""The engine's packages import one way: each only from the layers below it (or its own).

Counted: every import of an engine package, at module level or inside a function (a lazy
import is still a dependency), except those under ``if TYPE_CHECKING:``. A new import that
goes upwards, or a circle between two packages, fails here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"

# bottom first; a package may import from its own layer (without a circle) or any below.
# "package.module" names a module that has a layer of its own, above the rest of its package
# (live's events, options and file source are below the session, the session below its worker).
LAYERS = [
    {"errors", "paths", "atomic", "text", "transcript", "speaker_colors", "scoring"},
    {"audio", "models"},
    {"asr", "speakers", "chapters", "export", "library"},
    {"file_job", "recognizer", "training", "live"},
    {"jobs", "live.session"},
    {"live.worker"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _unit(parts: tuple[str, ...] | list[str]) -> str:
    """What has a layer, for a module path inside engine: its package, or "package.module" where LAYERS names it."""
    if len(parts) > 1 and f"{parts[0]}.{parts[1]}" in LAYER:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def _package(path: Path) -> str:
    rel = path.relative_to(ENGINE).with_suffix("")
    return _unit(rel.parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def engine_imports() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> 'file:line' where."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        here = _package(path)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "engine" and len(parts) > 1 and _unit(parts[1:]) != here:
                    edges[here][_unit(parts[1:])].append(f"{path.relative_to(ENGINE.parent)}:{node.lineno}")
    return edges


def test_every_engine_package_has_a_layer():
    packages = {_package(p) for p in ENGINE.rglob("*.py") if p.name != "__init__.py" or p.parent != ENGINE}
    assert packages <= set(LAYER), f"put these in LAYERS: {sorted(packages - set(LAYER))}"


def test_engine_packages_import_only_downwards():
    upwards = [
        f"{src} (layer {LAYER[src]}) imports {dst} (layer {LAYER[dst]}) at {where[0]}"
        for src, targets in engine_imports().items()
        for dst, where in targets.items()
        if LAYER.get(dst, -1) > LAYER[src]
    ]
    assert not upwards, "\n".join(upwards)


def test_no_import_circle_between_engine_packages():
    edges = {src: set(t) for src, t in engine_imports().items()}
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if seen.get(nxt) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, node, nxt]))
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for start in sorted(edges):
        if start not in seen:
            visit(start, [])
