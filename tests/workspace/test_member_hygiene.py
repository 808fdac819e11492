"""Each workspace member imports only what its own pyproject declares.

uv installs every member into one environment, so a member can silently import a package
that only a sibling declares; these tests catch that before a user installs it alone.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMBER_DIRS = sorted(
    [*ROOT.glob("packages/*"), *ROOT.glob("apps/*")], key=lambda p: p.name
)
# Data and models are the base of the graph: they must not reach up into training or
# the apps that drive it.
FORBIDDEN_DEPENDENCIES = {
    "ml-core-contract": {
        "ml-core-data",
        "ml-core-models",
        "ml-core-train",
        "ml-core-viz",
        "ml-core-slurm",
    },
    "ml-core-data": {"ml-core-train", "ml-core-viz", "ml-core-slurm", "ml-core-models"},
    "ml-core-models": {"ml-core-train", "ml-core-viz", "ml-core-slurm", "ml-core-data"},
    "ml-core-viz": {"ml-core-train", "ml-core-slurm"},
}
# Declared dependencies that the code needs without importing them by name.
IMPORTED_INDIRECTLY = {
    # torch.utils.tensorboard.SummaryWriter imports the tensorboard package.
    "ml-core-train": {"tensorboard"},
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject(member: Path) -> dict:
    return tomllib.loads((member / "pyproject.toml").read_text())


def _declared(member: Path) -> set[str]:
    deps = _pyproject(member)["project"].get("dependencies", [])
    return {_normalise(re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0]) for dep in deps}


def _packages(member: Path) -> list[Path]:
    """The regular packages a member ships under ``ml_core`` (namespaces may nest)."""
    namespace = member / "src" / "ml_core"
    return sorted(init.parent for init in namespace.rglob("__init__.py"))


def _dotted(member: Path, package: Path) -> str:
    return ".".join(package.relative_to(member / "src" / "ml_core").parts)


def _namespace_owners() -> dict[str, str]:
    """Map each ``ml_core.<sub>`` package (``train``, ``cli.train``) to its distribution."""
    owners = {}
    for member in MEMBER_DIRS:
        name = _normalise(_pyproject(member)["project"]["name"])
        for package in _packages(member):
            owners[_dotted(member, package)] = name
    return owners


def _owner(owners: dict[str, str], module: str) -> str | None:
    """The distribution shipping ``ml_core.<module>``: the longest package prefix."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        owner = owners.get(".".join(parts[:end]))
        if owner is not None:
            return owner
    return None


def _imported_top_levels(source_root: Path) -> set[tuple[str, str | None]]:
    """(top-level module, ml_core subpackage or None) for every absolute import."""
    found = set()
    for path in source_root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top, _, rest = name.partition(".")
                found.add((top, rest or None))
    return found


def _distribution_of(module: str) -> set[str]:
    mapping = importlib.metadata.packages_distributions()
    return {_normalise(dist) for dist in mapping.get(module, [])}


@pytest.mark.parametrize("member", MEMBER_DIRS, ids=lambda p: p.name)
def test_member_imports_only_declared_dependencies(member: Path) -> None:
    own_name = _normalise(_pyproject(member)["project"]["name"])
    declared = _declared(member)
    owners = _namespace_owners()
    undeclared = []
    for top, sub in sorted(_imported_top_levels(member / "src"), key=str):
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if top == "ml_core":
            owner = _owner(owners, sub or "")
            assert owner is not None, f"{member.name} imports unknown ml_core.{sub}"
            if owner != own_name and owner not in declared:
                undeclared.append(f"ml_core.{sub} (from {owner})")
            continue
        dists = _distribution_of(top)
        assert dists, f"{member.name} imports {top!r}, which no installed package ships"
        if not dists & declared:
            undeclared.append(f"{top} (from {', '.join(sorted(dists))})")
    assert not undeclared, f"{member.name} imports undeclared: {undeclared}"


@pytest.mark.parametrize("member", MEMBER_DIRS, ids=lambda p: p.name)
def test_member_declares_nothing_it_does_not_import(member: Path) -> None:
    owners = _namespace_owners()
    used = set()
    for top, sub in _imported_top_levels(member / "src"):
        if top == "ml_core":
            used.add(_owner(owners, sub or "") or "")
        elif top not in sys.stdlib_module_names:
            used |= _distribution_of(top)
    own_name = _normalise(_pyproject(member)["project"]["name"])
    unused = _declared(member) - used - IMPORTED_INDIRECTLY.get(own_name, set())
    assert not unused, f"{member.name} declares but never imports {sorted(unused)}"


@pytest.mark.parametrize("member", MEMBER_DIRS, ids=lambda p: p.name)
def test_member_dependencies_point_one_way(member: Path) -> None:
    name = _normalise(_pyproject(member)["project"]["name"])
    reaching_up = _declared(member) & FORBIDDEN_DEPENDENCIES.get(name, set())
    assert not reaching_up, f"{name} must not depend on {sorted(reaching_up)}"


@pytest.mark.parametrize("member", MEMBER_DIRS, ids=lambda p: p.name)
def test_member_layout(member: Path) -> None:
    project = _pyproject(member)["project"]
    assert re.fullmatch(r"ml-core-[a-z]+", project["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert project["requires-python"] == ">=3.11"
    assert (member / "README.md").read_text().strip()
    namespace = member / "src" / "ml_core"
    assert not (namespace / "__init__.py").exists(), "ml_core must stay a namespace"
    packages = _packages(member)
    assert packages
    for package in packages:
        assert (package / "py.typed").exists(), f"{package} lacks py.typed"
        init = (package / "__init__.py").read_text()
        assert "__all__" in init, f"{package}/__init__.py has no __all__"


def test_no_namespace_init_anywhere() -> None:
    assert not list(ROOT.glob("**/src/ml_core/__init__.py"))


@pytest.mark.parametrize(
    "module",
    [
        "ml_core.contract",
        "ml_core.cli.data",
        "ml_core.cli.train",
        "ml_core.cli.viz",
        "ml_core.eda",
        "ml_core.data",
        "ml_core.models",
        "ml_core.train",
        "ml_core.viz",
        "ml_core.slurm",
        "ml_core.solver",
        "ml_core.utils",
    ],
)
def test_namespace_imports(module: str) -> None:
    imported = importlib.import_module(module)
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.__all__ lists missing {name}"


def test_workspace_members_are_all_locked() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {_normalise(package["name"]) for package in lock["package"]}
    for member in MEMBER_DIRS:
        assert _normalise(_pyproject(member)["project"]["name"]) in locked
