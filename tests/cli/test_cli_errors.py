"""Every CLI command and every PA_* setting, given a bad value, answers one line on stderr and a non-zero exit —
never a traceback. Run as a real process, as a person would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from loopback import CLI

from cdshooks.cli.sandbox import free_port

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = str(ROOT / "fhir_fixtures" / "bundles" / "elx-approve.json")
DOWN = f"http://127.0.0.1:{free_port()}"  # nothing listens here

COMMANDS = [  # (what, args, a fragment of the one line)
    ("unknown command", ["frobnicate"], "No such command"),
    ("explain: missing file", ["explain", "/nonexistent/x.json", "--drug", "J1323"], "does not exist"),
    ("explain: a folder", ["explain", str(ROOT), "--drug", "J1323"], f"'{ROOT}' is a directory"),
    ("explain: not JSON", ["explain", str(ROOT / "README.md"), "--drug", "J1323"], "README.md: not JSON"),
    ("explain: no policy for the drug", ["explain", BUNDLE, "--drug", "161"], "no policy governs drug '161'"),
    ("explain: bad date", ["explain", BUNDLE, "--drug", "J1323", "--date", "soon"], "'soon'"),
    ("lint: missing folder", ["lint", "--mappings", "/nonexistent"], "not a mappings folder"),
    ("lint: a file", ["lint", "--mappings", BUNDLE], "not a mappings folder"),
    ("fixtures load: server down", ["fixtures", "load", "--fhir-server", DOWN], "cannot reach"),
    ("hook: service down", ["hook", "order-sign", "--patient", "p", "--drug", "J1323", "--fhir-server", DOWN,
                            "--service", DOWN], "cannot reach"),
    ("hook: unknown hook", ["hook", "order-review", "--patient", "p", "--drug", "J1323", "--fhir-server", DOWN],
     "order-review"),
    ("hook: key without iss", ["hook", "order-sign", "--patient", "p", "--drug", "J1323", "--fhir-server", DOWN,
                               "--sign-key", BUNDLE], "--sign-key needs --iss"),
    ("serve: no trust and no --dev", ["serve"], "cannot start"),
    ("serve: trust file missing", ["serve", "--trust", "/nonexistent.yaml"], "does not exist"),
    ("serve: bad port", ["serve", "--dev", "--port", "http"], "'http'"),
    ("ehr-key: a file", ["ehr-key", BUNDLE], "is a file"),
    ("ehr-key: under a file", ["ehr-key", f"{BUNDLE}/keys"], "elx-approve.json"),
    ("probe: nothing listens", ["probe", "--url", f"{DOWN}/readyz"], "not ready: cannot reach"),
]

SETTINGS = [  # every PA_* variable `serve` reads, with a value it cannot use
    ("PA_MAPPINGS_DIR", "/nonexistent"), ("PA_MAX_BODY_BYTES", "5MB"), ("PA_MAX_ORDERS", "0"),
    ("PA_MAX_BUNDLE_ENTRIES", "-1"), ("PA_FHIR_CONNECT_TIMEOUT", "fast"), ("PA_FHIR_READ_TIMEOUT", "0"),
    ("PA_FHIR_DEADLINE", "soon"), ("PA_FHIR_MAX_PAGES", "1.5"), ("PA_FHIR_PAGE_SIZE", "all"),
    ("PA_FHIR_WORKERS", "0"), ("PA_FHIR_PER_SERVER", "-3"), ("PA_PUBLIC_URL", "pa.example.org"),
    ("PA_REPLAY_STORE", "mongodb://x"), ("PA_AUDIT_RETENTION_DAYS", "forever"), ("PA_DTR_CONTEXT_HOURS", "0"),
    ("PA_STORE_URL", "postgresql://nobody@127.0.0.1:1/none"), ("PA_TRUST_FILE", "/nonexistent.yaml"),
]


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PA_STORE_URL": f"sqlite:///{tmp_path}/s.db", **env}
    for key in ("PA_DEV_MODE", "PA_TRUST_FILE"):
        if key not in env:
            full.pop(key, None)
    return subprocess.run([*CLI, *args], cwd=tmp_path,
                          env=full, capture_output=True, text=True, timeout=60)


def _one_line(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    # The service's own JSON log lines (e.g. the dev-mode warning) are not the message to the person.
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith('{"ts"')]
    assert len(lines) == 1, lines
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("what, args, fragment", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_command_mistake_is_one_line(tmp_path, what, args, fragment):
    _one_line(_cli(args, tmp_path), fragment)


@pytest.mark.parametrize("name, value", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_a_bad_setting_stops_serve_in_one_line_naming_it(tmp_path, name, value):
    # The trust file is read in trust mode only (--dev trusts every caller).
    mode = ["--public-url", "https://pa.example.org"] if name == "PA_TRUST_FILE" else ["--dev"]
    done = _cli(["serve", *mode, "--port", str(free_port())], tmp_path, **{name: value})
    _one_line(done, "cannot start")
    assert name in done.stderr or value in done.stderr


@pytest.mark.parametrize("args", [["serve", "--dev", "--port", "0"], ["db", "upgrade"]])
def test_postgresql_without_its_driver_is_one_line_naming_the_extra(tmp_path, args):
    """An install without the [postgres] extra (here: a psycopg that fails to import, first on the path) and a
    PostgreSQL store URL: one line that says which extra to install, never a 47-line traceback (issue #24)."""
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no psycopg in this install')\n")
    done = _cli(args, tmp_path, PA_STORE_URL="postgresql://nobody@127.0.0.1:1/none",
                PYTHONPATH=str(tmp_path / "shadow"))
    _one_line(done, "pip install 'pa-advisor[postgres]'")


def test_a_metrics_folder_holding_other_files_is_refused_never_emptied(tmp_path):
    """PA_METRICS_DIR pointed at a folder with someone's files: one line, and the files are still there (#24)."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    (folder / "counter_123.db").write_bytes(b"")
    done = _cli(["serve", "--dev", "--port", "0"], tmp_path, PA_METRICS_DIR=str(folder))
    _one_line(done, "holds files that are not metrics (thesis.tex)")
    assert (folder / "thesis.tex").read_text() == "years of work"


def test_a_metrics_folder_of_an_earlier_run_is_emptied_of_its_metrics(tmp_path, monkeypatch):
    from cdshooks.multiproc import MULTIPROC_ENV, shared_metrics_dir

    # It names the folder for this process's workers: restored after the test, or every later in-process
    # /metrics would read the (empty) multiprocess folder.
    monkeypatch.setenv(MULTIPROC_ENV, "")  # recorded as it was, so the folder the call names is undone

    folder = tmp_path / "metrics"
    folder.mkdir()
    for name in ("counter_1.db", "histogram_22.db", "gauge_livesum_3.db"):
        (folder / name).write_bytes(b"x")
    assert shared_metrics_dir(str(folder)) == folder and not list(folder.iterdir())


def test_explain_on_a_folder_or_a_file_that_is_not_json_names_it(tmp_path):
    (tmp_path / "notes.txt").write_text("not json at all")
    (tmp_path / "list.json").write_text("[1, 2]")
    _one_line(_cli(["explain", str(tmp_path), "--drug", "J1323"], tmp_path), "is a directory")
    _one_line(_cli(["explain", str(tmp_path / "notes.txt"), "--drug", "J1323"], tmp_path), "notes.txt: not JSON")
    _one_line(_cli(["explain", str(tmp_path / "list.json"), "--drug", "J1323"], tmp_path),
              "list.json: not a FHIR resource or Bundle")


def test_serve_on_a_taken_port_says_so_in_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _cli(["serve", "--dev", "--port", str(port)], tmp_path)
    _one_line(done, f"port {port} on 127.0.0.1 is taken")


def test_ehr_key_keeps_an_existing_pair(tmp_path):
    first = _cli(["ehr-key", str(tmp_path / "keys")], tmp_path)
    assert first.returncode == 0 and first.stdout.startswith("wrote"), first.stderr
    public = (tmp_path / "keys" / "jwks.json").read_text()
    again = _cli(["ehr-key", str(tmp_path / "keys")], tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("kept")
    assert (tmp_path / "keys" / "jwks.json").read_text() == public  # a restarted stack still trusts its EHR


def test_probe_reads_the_port_of_pa_bind(tmp_path):
    port = free_port()
    done = _cli(["probe"], tmp_path, PA_BIND=f"0.0.0.0:{port}")
    _one_line(done, f"127.0.0.1:{port}/readyz")
