"""The package layout keeps its promises: each subpackage says what it holds and may import, and the imports
obey it — above all, the policy engine does no I/O and the FHIR record does not depend on the policy."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cdshooks"
SUBPACKAGES = ["web", "service", "fhir", "policy", "dtr", "security", "store", "cli", "ehr", "authoring"]
# What pure-data FHIR modules are (the rest of fhir/ does the I/O).
FHIR_DATA = {"cdshooks.fhir.codes", "cdshooks.fhir.dates", "cdshooks.fhir.quantity", "cdshooks.fhir.record"}
IO_MODULES = ("flask", "requests", "urllib", "http", "socket", "sqlite3", "sqlalchemy", "alembic", "psycopg",
              "redis", "gunicorn", "subprocess")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "cdshooks"}
    return out


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_subpackage_says_what_it_holds_and_may_import(package):
    doc = importlib.import_module(f"cdshooks.{package}").__doc__ or ""
    assert len(doc.split()) >= 15, f"cdshooks/{package}/__init__.py: say what lives there and what it imports"
    assert "import" in doc.lower(), f"cdshooks/{package}: say what it may import"


def test_the_top_level_holds_only_shared_modules():
    flat = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__", "errors", "logs", "metrics", "multiproc", "settings", "strict_json", "tracing"]


@pytest.mark.parametrize("path", modules("policy"), ids=lambda p: p.name)
def test_the_policy_engine_does_no_io(path):
    for name in imports_of(path):
        root = name.split(".")[0]
        assert root not in IO_MODULES, f"{path.name} imports {name}"
        if name.startswith("cdshooks.") and not name.startswith("cdshooks.policy"):
            assert name in FHIR_DATA | {"cdshooks.errors"}, f"{path.name} imports {name}: the policy engine reads " \
                                                             "data handed to it, never the web, service or store"


@pytest.mark.parametrize("path", sorted(PACKAGE / "fhir" / f"{m.split('.')[-1]}.py" for m in FHIR_DATA),
                         ids=lambda p: p.name)
def test_the_fhir_record_and_its_helpers_are_pure_data(path):
    for name in imports_of(path):
        assert name.split(".")[0] not in IO_MODULES, f"{path.name} imports {name}"
        if name.startswith("cdshooks."):
            assert name in FHIR_DATA, f"{path.name} imports {name}: the record must not depend on the policy"


@pytest.mark.parametrize("package", ["policy", "fhir", "service", "store", "security", "dtr", "authoring"])
def test_only_the_web_layer_and_the_command_line_import_flask_or_the_web_package(package):
    for path in modules(package):
        for name in imports_of(path):
            assert name.split(".")[0] != "flask", f"{package}/{path.name} imports {name}"
            assert not name.startswith(("cdshooks.web", "cdshooks.cli")), f"{package}/{path.name} imports {name}"


def test_the_store_is_reached_only_through_its_package():
    for path in PACKAGE.rglob("*.py"):
        if "store" in path.relative_to(PACKAGE).parts[:1]:
            continue
        for name in imports_of(path):
            assert not name.startswith(("cdshooks.store.tables", "cdshooks.store.migrations")), (path, name)


def test_importing_the_policy_engine_loads_no_web_or_database_library():
    """Checked in a clean interpreter: what `import cdshooks.policy.evaluate` pulls in."""
    import subprocess

    code = ("import sys, cdshooks.policy.evaluate, cdshooks.policy.loader; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{IO_MODULES!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in out if m.split(".")[0] in ("flask", "sqlalchemy", "alembic", "psycopg", "redis",
                                                      "gunicorn")], out


@pytest.mark.parametrize("package", ["dtr", "security", "store", "authoring"])
def test_the_dtr_security_store_and_authoring_layers_never_reach_into_the_service(package):
    for path in modules(package):
        for name in imports_of(path):
            assert not name.startswith("cdshooks.service"), f"{package}/{path.name} imports {name}"


def test_every_error_the_package_raises_on_purpose_is_in_one_tree():
    """One root (cdshooks/errors.py): a caller catches PAAdvisorError and nothing of ours escapes it."""
    from cdshooks.errors import PAAdvisorError

    defined = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any("Error" in ast.unparse(b) or "Exception" in ast.unparse(b)
                                                      for b in node.bases):
                defined.append((module, node.name))
    assert len(defined) >= 15
    for module, name in defined:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, PAAdvisorError), f"{module}.{name} is outside the error tree"


def test_no_module_imports_another_packages_private_names():
    """A name starting with `_` is its package's own; another package uses only what it publishes."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        own = parts[0] if len(parts) > 1 else None
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("cdshooks."):
                target = node.module.split(".")[1]
                found += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and target != own]
    assert not found, found


def test_the_import_contracts_hold():
    """The layers and forbidden imports of pyproject.toml [tool.importlinter], checked by import-linter itself."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()"], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "0 broken" in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize("path", modules("policy"), ids=lambda p: p.name)
def test_the_policy_core_knows_no_cds_hooks_shapes(path):
    """Orders come to the core as FHIR resources; where they sat in a hook request is the service's business."""
    text = path.read_text(encoding="utf-8")
    for key in ("draftOrders", "dispatchedOrders", "selections", "hookInstance", "fhirAuthorization", "prefetch",
                "systemActions"):
        assert key not in text, f"{path.name} mentions {key}"
