"""Start-up rules and the command line: serve, lint, explain, fixtures load, hook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from conftest import FHIR_TOKEN, FIXTURES, SCENARIOS
from loopback import serve_app

from cdshooks.cli.commands import main
from cdshooks.cli.sandbox import free_port
from cdshooks.errors import MappingError
from cdshooks.settings import DEFAULT_MAPPINGS, Settings
from cdshooks.web.app import ConfigError, create_app

CLI = str(Path(sys.executable).with_name("pa-advisor"))


def test_production_mode_refuses_to_start_without_trusted_issuers(tmp_path):
    with pytest.raises(ConfigError, match="--trust FILE"):
        create_app(Settings(dev_mode=False, store_url=f"sqlite:///{tmp_path / 'x.db'}"))


def test_broken_mapping_stops_start_up_naming_file_and_path(tmp_path):
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    path = root / "policies" / "cp-phar-243-alemtuzumab.yaml"
    path.write_text(path.read_text().replace("kind: age\n", "kind: agee\n", 1))
    with pytest.raises(MappingError) as info:
        create_app(Settings(dev_mode=True, mappings_dir=root, store_url=f"sqlite:///{tmp_path / 'x.db'}"))
    message = str(info.value)
    assert "cp-phar-243-alemtuzumab.yaml" in message and "$.initial.criteria.criteria[2].kind" in message


def test_serve_without_dev_exits_non_zero_with_a_clear_message(tmp_path):
    env = {**os.environ, "PA_STORE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PA_DEV_MODE": ""}
    proc = subprocess.run([CLI, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "cannot start" in proc.stderr and "--dev" in proc.stderr


def test_serve_dev_answers_discovery_over_real_http(tmp_path):
    port = free_port()
    env = {**os.environ, "PA_STORE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    proc = subprocess.Popen([CLI, "serve", "--dev", "--port", str(port), "--workers", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/cds-services", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("service did not start")
        assert resp.status_code == 200 and len(resp.json()["services"]) == 3
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "DEV MODE" in err


def test_lint_command_passes_on_the_bundled_mappings_and_fails_on_a_broken_one(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["lint"])
    assert ok.exit_code == 0 and "mappings OK" in ok.output
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    vs = root / "valuesets" / "diagnoses.yaml"
    vs.write_text(vs.read_text().replace("[icd10cm, C90.01,", "[icd10cm, C90.07,"))
    bad = runner.invoke(main, ["lint", "--mappings", str(root)])
    assert bad.exit_code == 1 and "C90.07 is not in ICD-10-CM" in bad.output


@pytest.mark.parametrize("change", [
    ("        text: Age ≥ 18 years\n", "        text: '   '\n"),   # blank: no question to ask
    ("        text: Age ≥ 18 years\n", ""),                         # no text at all
])
def test_lint_fails_on_a_criterion_with_no_question_text(tmp_path, change):
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    policy = root / "policies" / "la-phar-652-elranatamab.yaml"
    text = policy.read_text()
    assert change[0] in text
    policy.write_text(text.replace(change[0], change[1], 1))
    bad = CliRunner().invoke(main, ["lint", "--mappings", str(root)])
    assert bad.exit_code == 1 and "la-phar-652-elranatamab.yaml" in bad.output and "text" in bad.output
    assert "Traceback" not in bad.output


@pytest.mark.parametrize("before, after, message", [
    ("codes: DISEASE-STATUS, met_values: STATUS-WORSENED}", "codes: DISEASE-STATUS, met_value: STATUS-WORSENED}",
     "no parameter 'met_value'; did you mean 'met_values'?"),
    ("codes: DRUG-ANTIMM, min: 4, transplant", "codes: DRUG-ANTIMM, transplant", "kind 'lines' needs params.min"),
    ("params: {codes: SPEC-HEMONC}", "params: {codes: SPEC-HEMONC, colour: red}", "no parameter 'colour'"),
    ("[{from_week: 25, to_week: 48,", "[{from_weeks: 25, to_week: 48,", "did you mean 'from_week'?"),
    ("step_up: [{max_dose: 12 mg}", "step_up: [{max_doze: 12 mg}", "did you mean 'max_dose'?"),
    ("[{from_week: 25, to_week: 48, max_dose: 76 mg,", "[{from_week: 25, to_week: 48, max_dose_per_kg: 76 mg,",
     "expected a dose per kg"),
    ("params: {phases: [{from_week: 25, to_week: 48,", "params: {bsa_formula: dubios, phases: [{from_week: 25, "
     "to_week: 48,", "'dubios': expected one of dubois, mosteller"),
])
def test_lint_refuses_a_misspelled_unknown_or_missing_parameter(tmp_path, before, after, message):
    output = _lint_with(tmp_path, before, after, message)
    # Where a pharmacist looks: the file's line and the criterion, not only a JSON path.
    policy = (tmp_path / "mappings" / "policies" / "la-phar-652-elranatamab.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(policy, 1) if after in text)
    assert re.search(rf"la-phar-652-elranatamab\.yaml:{line}: \(criterion '[a-z0-9-]+'\)", output), output


@pytest.mark.parametrize("before, after, message", [
    ("coding: [hcpcs, J1323,", "coding: [hcpcs, J13234,", "'J13234' is not a well-formed HCPCS code"),
    ("coding: [hcpcs, J1323,", "coding: [hcpcs, J9999,", "'J9999' is not in the drug's own value set"),
])
def test_lint_checks_the_policy_drug_code(tmp_path, before, after, message):
    _lint_with(tmp_path, before, after, message)


def _lint_with(tmp_path, before, after, message):
    """Each used to pass lint and then evaluate to `missing` (or crash) at the first patient."""
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    policy = root / "policies" / "la-phar-652-elranatamab.yaml"
    text = policy.read_text()
    assert before in text
    policy.write_text(text.replace(before, after, 1))
    bad = CliRunner().invoke(main, ["lint", "--mappings", str(root)])
    assert bad.exit_code == 1 and message in bad.output, bad.output
    assert "la-phar-652-elranatamab.yaml" in bad.output and "Traceback" not in bad.output
    return bad.output


def ordered_drug(key: str) -> str:
    """The drug as the fixture's draft order names it: its first code, else its text."""
    order = SCENARIOS[key]["draftOrders"][0]
    concept = order.get("medicationCodeableConcept") or {}
    for med in order.get("contained", []):  # a Medication coded only by its ingredient
        concept = concept or med["ingredient"][0]["itemCodeableConcept"]
    return next((c["code"] for c in concept.get("coding", []) if c.get("code")), concept.get("text", ""))


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_explain_works_on_every_fixture(key):
    """Offline, the same outcome as through the service (plans the policy does not cover are said so)."""
    drug = ordered_drug(key)
    result = CliRunner().invoke(main, ["explain", str(FIXTURES / SCENARIOS[key]["bundle"]), "--drug", drug],
                                terminal_width=220)
    assert result.exit_code == 0, result.output
    expected = SCENARIOS[key]["expected"]
    if expected is None:
        assert "the policy would not apply" in result.output
    else:
        assert f"Outcome: {expected['outcome']}" in result.output


def test_explain_for_a_drug_no_policy_governs():
    result = CliRunner().invoke(main, ["explain", str(FIXTURES / "bundles" / "elx-approve.json"), "--drug", "161"])
    assert result.exit_code == 1 and "no policy governs" in result.output


@pytest.fixture
def live_service(settings):
    """The app on a real WSGI server on loopback, for the CLI's `hook` command."""
    from datetime import date

    app = create_app(settings)
    app.extensions["pa"].hooks.today = lambda: date(2026, 11, 20)
    with serve_app(app) as base:
        yield base


@pytest.mark.integration
@pytest.mark.parametrize("prefetch", [True, False])
def test_hook_command_end_to_end(fhir_server, live_service, prefetch):
    args = ["hook", "order-sign", "--patient", "elx-age-pt", "--drug", "J1323", "--fhir-server", fhir_server,
            "--token", FHIR_TOKEN, "--service", live_service] + (["--prefetch"] if prefetch else [])
    result = CliRunner().invoke(main, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "likely denied" in result.output and "I.A.3" in result.output
    assert "1 coverage-information system action" in result.output


@pytest.mark.integration
def test_fixtures_load_command(fhir_server):
    result = CliRunner().invoke(main, ["fixtures", "load", "--fhir-server", fhir_server, "--token", FHIR_TOKEN])
    assert result.exit_code == 0
    assert f"loaded {len(SCENARIOS)} of {len(SCENARIOS)} bundles" in result.output
    bad = CliRunner().invoke(main, ["fixtures", "load", "--fhir-server", fhir_server, "--token", "wrong"])
    assert bad.exit_code == 1 and "HTTP 401" in bad.output


@pytest.mark.integration
def test_fixtures_load_takes_bundle_files_and_folders(fhir_server, tmp_path):
    """A pharmacist's own test patients: one file, or a folder of them (the bundled ones are reloaded as is)."""
    one = FIXTURES / "bundles" / "elx-approve.json"
    for name in ("elx-approve.json", "ide-approve.json"):
        shutil.copy(FIXTURES / "bundles" / name, tmp_path / name)
    for args, count in (([str(one)], 1), ([str(tmp_path)], 2)):
        result = CliRunner().invoke(main, ["fixtures", "load", *args, "--fhir-server", fhir_server, "--token",
                                           FHIR_TOKEN])
        assert result.exit_code == 0 and f"loaded {count} of {count} bundles" in result.output, result.output


@pytest.mark.parametrize("name, value", [("PA_FHIR_DEADLINE", "soon"), ("PA_REPLAY_STORE", "mongodb://x"),
                                         ("PA_MAPPINGS_DIR", "/nonexistent")])
def test_the_docker_gunicorn_command_refuses_a_bad_setting_in_one_line(tmp_path, name, value):
    """deploy/Dockerfile's CMD: gunicorn with deploy/gunicorn.conf.py checks settings and mappings once, in the
    master, instead of every worker failing to boot with a traceback."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PA_DEV_MODE": "1", "PA_BIND": "127.0.0.1:0", name: value,
           "PA_STORE_URL": f"sqlite:///{tmp_path}/s.db"}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(root / "deploy" / "gunicorn.conf.py"),
                           "cdshooks.web.app:create_app()"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "pa-advisor: cannot start: " in done.stderr and "Traceback" not in done.stderr
    assert name in done.stderr or value in done.stderr


def test_the_docker_gunicorn_command_starts_clean_as_a_user_with_no_home(tmp_path):
    """The image runs as `nobody`, whose home does not exist: gunicorn ≥ 27's control socket used to log an ERROR
    at every start. Every line it writes is JSON, and none is an error."""
    import json
    import os
    import subprocess
    import sys

    from loopback import wait_until_up

    from cdshooks.cli.sandbox import free_port

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {**os.environ, "HOME": "/proc/no-such-home", "PA_DEV_MODE": "1", "PA_BIND": f"127.0.0.1:{port}",
           "PA_WORKERS": "1", "PA_STORE_URL": f"sqlite:///{tmp_path}/s.db", "PA_METRICS_DIR": str(tmp_path / "m")}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(root / "deploy" / "gunicorn.conf.py"),
                             "cdshooks.web.app:create_app()"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until_up(f"http://127.0.0.1:{port}/readyz", proc).status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines and not [line for line in lines if line["level"] in ("ERROR", "CRITICAL")], err


def test_every_kind_has_a_parameter_schema_and_a_reference_entry():
    from cdshooks.policy.kinds import KINDS, PARAMS

    assert set(KINDS) <= set(PARAMS)
    listing = CliRunner().invoke(main, ["kinds"])
    assert listing.exit_code == 0
    for kind in PARAMS:
        assert f"\n{kind}\n" in f"\n{listing.output}", kind
    lines = CliRunner().invoke(main, ["kinds", "lines"]).output
    assert "required: codes (value set), min (value)" in lines and "kind: lines" in lines  # a real example
    assert CliRunner().invoke(main, ["kinds", "nope"]).exit_code == 2


def test_lint_refuses_a_value_set_no_policy_uses(tmp_path):
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    drugs = root / "valuesets" / "drugs.yaml"
    drugs.write_text(drugs.read_text().rstrip("\n") + "\n  DRUG-ORPHAN:\n    title: Nothing reads this\n"
                     "    codes: [[rxnorm, \"8640\", prednisone, V]]\n")
    bad = CliRunner().invoke(main, ["lint", "--mappings", str(root)])
    assert bad.exit_code == 1 and "value set 'DRUG-ORPHAN' is used by no policy" in bad.output, bad.output
