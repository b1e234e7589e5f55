"""Read which modules import which, from the source (nothing is imported to find out)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "facilitation"


@dataclass(frozen=True)
class Import:
    """One import statement: the module named, where it stands."""

    module: str
    path: Path
    line: int

    def where(self) -> str:
        """Return 'facilitation/x/y.py:12'."""
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"


def module_name(path: Path, root: Path = ROOT) -> str:
    """Return the dotted name of the module at ``path`` ('facilitation.core.db')."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Return every module of ``package`` under ``root`` by dotted name."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imports_of(path: Path, known: dict[str, Path] | None = None) -> list[Import]:
    """Return every absolute import in the file, at any depth (functions included).

    ``from a.b import c`` names ``a.b.c`` too when that is a module in ``known``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, path, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(Import(node.module, path, node.lineno))
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if known is not None and sub in known:
                    found.append(Import(sub, path, node.lineno))
    return found


def is_marked_pure(path: Path) -> bool:
    """Return whether the module declares ``__pure__ = True`` at its top level."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__pure__" for t in node.targets
        ):
            return isinstance(node.value, ast.Constant) and node.value.value is True
    return False


def import_chains(
    start: str, known: dict[str, Path], package: str = PACKAGE
) -> dict[str, list[Import]]:
    """Return, for each outside root module reached from ``start``, the chain of imports to it.

    Imports are followed through the package's own modules, and through the ``__init__`` of
    each package between (Python runs those first), except the top package's own: that is the
    app factory, which knows every domain, and no module's code depends on it.
    """
    reached: dict[str, list[Import]] = {}
    seen = {start}
    queue: list[tuple[str, list[Import]]] = [(start, [])]
    while queue:
        name, chain = queue.pop(0)
        for imp in imports_of(known[name], known):
            root = imp.module.split(".")[0]
            if root != package:
                reached.setdefault(root, [*chain, imp])
                continue
            parts = imp.module.split(".")
            for depth in range(2, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target in known and target not in seen:
                    seen.add(target)
                    queue.append((target, [*chain, imp]))
    return reached
