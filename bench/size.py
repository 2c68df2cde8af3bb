"""The size of the code: `make bench-size` (`.venv/bin/python bench/size.py [--compare TREE]`).

For this tree, and for another checkout beside it (`git worktree add /tmp/ref b08419e`):
non-test, non-migration Python lines (in vigie/, and in the whole repository but tests/),
raw SQL `execute` sites outside migrations, `mark_safe` calls, and HTML tags inside Python
string literals other than docstrings — each counted in vigie/, what the product runs.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>|</[a-zA-Z][a-zA-Z0-9]*>")


def _python_files(tree: Path, top: str = "") -> list[Path]:
    base = tree / top if top else tree
    return [
        path
        for path in sorted(base.rglob("*.py"))
        if "migrations" not in path.parts
        and not {"tests", ".venv", "var", "node_modules"} & set(path.relative_to(tree).parts)
    ]


def _docstrings(module: ast.Module) -> set[int]:
    """The ids of the nodes that are docstrings (a module's, a class's, a function's)."""
    found = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _packages(tree: Path) -> set[str]:
    return {p.parent.name for p in (tree / "vigie").glob("*/__init__.py")}


def measure(tree: Path, new: set[str] = frozenset()) -> dict[str, int]:
    product = _python_files(tree, "vigie")
    counts = {
        "Python lines in vigie/ (no tests, no migrations)": 0,
        "Python lines in the repository (no tests, no migrations)": sum(
            len(p.read_text().splitlines()) for p in _python_files(tree)
        ),
        "… of which in packages absent from the other tree": sum(
            len(p.read_text().splitlines())
            for p in product
            if p.relative_to(tree / "vigie").parts[0] in new
        ),
        "raw SQL `execute` sites in vigie/ (no migrations)": 0,
        "`mark_safe` calls in vigie/": 0,
        "HTML tags in Python strings in vigie/ (no docstrings)": 0,
    }
    for path in product:
        source = path.read_text()
        counts["Python lines in vigie/ (no tests, no migrations)"] += len(source.splitlines())
        module = ast.parse(source)
        docstrings = _docstrings(module)
        for node in ast.walk(module):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in ("execute", "executemany"):
                    counts["raw SQL `execute` sites in vigie/ (no migrations)"] += 1
                elif name == "mark_safe":
                    counts["`mark_safe` calls in vigie/"] += 1
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                counts["HTML tags in Python strings in vigie/ (no docstrings)"] += len(
                    TAG.findall(node.value)
                )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", type=Path, metavar="TREE", help="another checkout")
    args = parser.parse_args()
    if not args.compare:
        for name, value in measure(ROOT).items():
            print(f"{value:>8,}  {name}")
        return
    new = _packages(ROOT) - _packages(args.compare)
    now = measure(ROOT, new)
    before = measure(args.compare)
    if new:
        print(f"Packages absent from {args.compare}: {', '.join(sorted(new))}")
    print(f"{'before':>8}  {'now':>8}  {'change':>8}  ({args.compare} → {ROOT})")
    for name, value in now.items():
        print(f"{before[name]:>8,}  {value:>8,}  {value - before[name]:>+8,}  {name}")


if __name__ == "__main__":
    main()
