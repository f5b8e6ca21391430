"""A regular (not editable) install carries its mappings, fixtures, console and schemas: built as a wheel from the
Docker build context (only what .dockerignore lets through, as the image's `pip install .` sees it), installed into
a folder of its own, and run from another folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import requests
from compose_local import build_context
from loopback import CLI, wait_until_up

from cdshooks.cli.sandbox import free_port

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, **kw)


def test_a_regular_install_serves_lints_and_explains_from_any_folder(tmp_path):
    wheels, site, elsewhere, context = (tmp_path / n for n in ("wheels", "site", "elsewhere", "context"))
    elsewhere.mkdir()
    for name in build_context():
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, context / name)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PA_MAPPINGS_DIR", None)
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                  str(context)], tmp_path, os.environ.copy())
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("pa_advisor-*.whl")
    installed = _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                     tmp_path, os.environ.copy())
    assert installed.returncode == 0, installed.stderr
    cli = CLI
    where = _run([sys.executable, "-c", "import cdshooks.settings as s; print(s.DEFAULT_MAPPINGS, s.FIXTURES_DIR)"],
                 elsewhere, env)
    assert where.stdout.split() == [str(site / "cdshooks" / "mappings"), str(site / "cdshooks" / "fhir_fixtures")]
    version = _run([*cli, "--version"], elsewhere, env)
    assert version.returncode == 0 and "pa-advisor, version" in version.stdout
    lint = _run([*cli, "lint"], elsewhere, env)
    assert lint.returncode == 0 and "mappings OK" in lint.stdout, lint.stdout + lint.stderr
    explain = _run([*cli, "explain", str(site / "cdshooks" / "fhir_fixtures" / "bundles" / "elx-approve.json"),
                    "--drug", "J1323"], elsewhere, env)
    assert explain.returncode == 0 and "likely-approved" in explain.stdout, explain.stdout + explain.stderr
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--dev", "--port", str(port), "--workers", "1"], cwd=elsewhere, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_until_up(f"http://127.0.0.1:{port}/readyz", server)
        assert ready.status_code == 200, "the installed service did not come up"
        assert ready.json()["mappings"] == len(list((ROOT / "mappings" / "policies").glob("*.yaml")))
        patients = requests.get(f"http://127.0.0.1:{port}/console/patients.json", timeout=5).json()
        assert len(patients) == len(json.loads((ROOT / "fhir_fixtures" / "manifest.json").read_text())["scenarios"])
        assert requests.get(f"http://127.0.0.1:{port}/console", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
