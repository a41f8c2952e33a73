"""The layout's rules, read from the source (docs/architecture.md says why they hold)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

APP = ROOT / "app"
ADAPTERS = ("app.mail", "app.documents")
# core is what every package stands on: it may use the models and the adapters' types, and
# the tagger's interface that worker jobs are handed; never a feature package.
CORE_MAY_USE = ("app.core", "app.models", "app.mail", "app.tagging")
# Only these collect what the packages offer.
COLLECTORS = ("app.main", "app.cli", "app.worker", "app.__main__")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every `from app… import …` and `import app…`."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _sources() -> list[tuple[Path, str]]:
    return [(p, _module(p)) for p in sorted(APP.rglob("*.py"))]


def test_no_package_imports_another_packages_private_names() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name} from {target}"
        for path, module in _sources()
        for line, target, names in _imports(path)
        if target.startswith("app.") and _package(target) != _package(module)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not offences, "\n".join(offences)


def test_adapters_depend_on_nothing_of_ours() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path, module in _sources()
        if _within(module, ADAPTERS)
        for line, target, _names in _imports(path)
        if _within(target, ("app",)) and _package(target) != _package(module)
    ]
    assert not offences, "\n".join(offences)


def test_core_uses_no_feature_package() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path, module in _sources()
        if _within(module, ("app.core",))
        for line, target, _names in _imports(path)
        if _within(target, ("app",)) and not _within(target, CORE_MAY_USE)
    ]
    assert not offences, "\n".join(offences)


def test_only_the_collectors_import_the_collectors() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path, module in _sources()
        if not _within(module, COLLECTORS)
        for line, target, _names in _imports(path)
        if _within(target, COLLECTORS)
    ]
    assert not offences, "\n".join(offences)


def test_every_package_template_lives_under_its_own_name() -> None:
    """<package>/templates/<package>/…: a template's name says which package renders it."""
    stray = [
        str(path.relative_to(ROOT))
        for templates in APP.glob("*/templates")
        for path in templates.rglob("*.*")
        if templates.parent.name != "core"
        and path.relative_to(templates).parts[0] != templates.parent.name
    ]
    assert not stray, stray
