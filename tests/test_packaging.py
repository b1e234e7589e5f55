"""The package declares what it imports: an install without extras serves.

The fast check reads every import of facilitation/ and wsgi.py and finds, for each outside
module, the distribution it comes from in [project.dependencies]. The slow one proves it:
it installs the package without extras into a fresh virtualenv (pip's cache makes this a
matter of unpacking) and imports every module there.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import venv

import pytest

from tests import import_graph
from tests.live_server import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def normal(name: str) -> str:
    """Return a distribution name as pip compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """Return the names in [project.dependencies], without versions or extras."""
    return {
        normal(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])
        for spec in PYPROJECT["project"]["dependencies"]
    }


def runtime_imports() -> dict[str, str]:
    """Return each outside top-level module that the served code imports, with one place."""
    files = [*import_graph.modules().values(), ROOT / "wsgi.py"]
    found: dict[str, str] = {}
    for path in files:
        for imp in import_graph.imports_of(path):
            root = imp.module.split(".")[0]
            if root not in sys.stdlib_module_names and root != "facilitation":
                found.setdefault(root, imp.where())
    return found


def undeclared(imports: dict[str, str], names: set[str]) -> list[str]:
    """Return one line per imported module whose distribution is not declared."""
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, where in sorted(imports.items()):
        dists = {normal(d) for d in distributions.get(module, [])}
        if not dists:
            problems.append(f"{where}: imports {module}, which no installed distribution gives")
        elif not dists & names:
            problems.append(
                f"{where}: imports {module} (from {', '.join(sorted(dists))}), "
                "which [project.dependencies] does not name"
            )
    return problems


def test_every_runtime_import_is_a_declared_dependency():
    assert undeclared(runtime_imports(), declared()) == []


def test_the_check_names_an_import_that_only_an_extra_brings():
    names = declared() - {"jsonschema-rs"}
    [problem] = undeclared({"jsonschema_rs": "facilitation/api/access.py:20"}, names)
    assert "jsonschema_rs (from jsonschema-rs)" in problem and "access.py:20" in problem


IMPORT_EVERY_MODULE = """
import importlib, pkgutil, facilitation
names = [m.name for m in pkgutil.walk_packages(facilitation.__path__, "facilitation.")]
for name in names:
    importlib.import_module(name)
assert "site-packages" in facilitation.__file__, facilitation.__file__
print(len(names))
"""


@pytest.mark.install
def test_an_install_without_extras_imports_every_module(tmp_path):
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)  # the suite's own pip installs into it: faster
    python = target / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-compile",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,  # a bound, not a wait: about a minute with a warm cache on a busy machine
    )
    assert install.returncode == 0, install.stderr[-3000:]
    imported = subprocess.run(
        [str(python), "-c", IMPORT_EVERY_MODULE],
        cwd=tmp_path,  # not the checkout: the installed package, not the source tree
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert int(imported.stdout.split()[-1]) > 50
    dev_only = subprocess.run(
        [str(python), "-c", "import pytest"], capture_output=True, env=env, timeout=60
    )
    assert dev_only.returncode != 0, "the dev tools came with an install without extras"
