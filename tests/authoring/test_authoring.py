"""Policy authoring: the policy text read into outline items (`lint --source`), the scaffold (`new-policy`), the
fixture generator (`fixtures new`), the kinds page, and a lint that names file, line, criterion and parameter
for every kind's mistakes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cdshooks.authoring.fixture_new import add_fixture, rename
from cdshooks.authoring.kinds_reference import markdown
from cdshooks.authoring.lint import located
from cdshooks.authoring.policy_text import items
from cdshooks.cli.commands import main
from cdshooks.errors import MappingError
from cdshooks.policy.kinds import CODESET_PARAMS, PARAMS
from cdshooks.policy.loader import load_payers, load_policy, load_valuesets, mapping_schema
from cdshooks.settings import DEFAULT_MAPPINGS, FIXTURES_DIR

ROOT = Path(__file__).resolve().parents[2]
SHARED_POLICIES = ROOT.parent / "shared" / "policies"
# A policy text in the shape of a health plan's web page (our own words): bullets under "Section:" headings,
# a subtitle, nested bullets, the joints ("; AND") and back matter that holds no criteria.
PAGE = """\
WIDGETMAB (widgetmab-xyz)

Coverage Criteria:

For diagnosis of relapsed widget disease (WD):

  • Documented diagnosis of WD; AND
  • One of the following:
    • Relapsed disease
    • Refractory disease; AND
  • Prescribed by a hematologist

Reauthorization Criteria:

  • No progression while on therapy.

Dosing:

  • Per label by actual body weight.

Coverage Duration:

  • Initial and Reauthorization: 6 months

Additional Information:
  • Approved in 2031.
"""


def test_a_page_of_bullets_reads_as_sections_and_nesting():
    found = [(i.id, i.words) for i in items(PAGE)]
    assert found == [
        ("Coverage Criteria.1", "Documented diagnosis of WD"),
        ("Coverage Criteria.2", "One of the following:"),
        ("Coverage Criteria.2.1", "Relapsed disease"),
        ("Coverage Criteria.2.2", "Refractory disease"),
        ("Coverage Criteria.3", "Prescribed by a hematologist"),
        ("Reauthorization Criteria.1", "No progression while on therapy."),
        ("Dosing.1", "Per label by actual body weight."),
        ("Coverage Duration.1", "Initial and Reauthorization: 6 months"),
    ]


def test_numbered_outlines_with_markdown_struck_text_and_run_on_items():
    text = """\
Description

Widgetmab is a drug.

#### I. Initial Approval Criteria**A. Widget disease** (must meet all):

1. Diagnosis of WD;
2. One of the following (a or b):
  - a. Serum widget  $\\geq$  5 g/dL;
    - i. measured twice;
  - b. Urine widget ~~> 1 g~~ ≥ 2 g;
~~3. Age ≥ 12 years;~~
3. Age ≥ 18 years;

Approval duration: 6 months

**B. Other diagnoses** (must meet 1):

1. Refer to the off-label policy.

**II. Continued Therapy**

A. Widget disease (must meet all):

1. Responding to therapy;

Limits or Restrictions

A. Quantity limits apply

**IV. Appendices/General Information**

1. Appendix item that is not a criterion
"""
    found = {i.id: i.words for i in items(text)}
    assert list(found) == ["I", "I.A", "I.A.1", "I.A.2", "I.A.2.a", "I.A.2.a.i", "I.A.2.b", "I.A.3", "I.B", "I.B.1",
                           "II", "II.A", "II.A.1", "Limits.A"]
    assert found["I.A.2.a"] == "Serum widget ≥ 5 g/dL"
    assert found["I.A.2.b"] == "Urine widget ≥ 2 g"  # the struck-through words are gone
    assert found["I.A.3"] == "Age ≥ 18 years"  # the struck-through item is not an item


@pytest.mark.skipif(not SHARED_POLICIES.is_dir(), reason="../shared/policies is not beside the project")
@pytest.mark.parametrize("text", sorted(SHARED_POLICIES.glob("0*.txt")) if SHARED_POLICIES.is_dir() else [],
                         ids=lambda p: p.name[:3])
def test_every_seed_policy_text_matches_its_outline(text):
    """The four seed policies: every numbered item of the text has an outline entry (the NCI page has none)."""
    result = CliRunner().invoke(main, ["lint", "--source", str(text)])
    if "Reference Number" not in text.read_text() and "Policy Number" not in text.read_text():
        assert result.exit_code == 1 and "--policy" in result.output  # not a payer policy: no policy quoted
        return
    assert result.exit_code == 0, result.output
    assert "has no outline entry" not in result.output


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    return root


@pytest.mark.skipif(not SHARED_POLICIES.is_dir(), reason="../shared/policies is not beside the project")
def test_lint_source_finds_a_criterion_deleted_with_its_outline_item(mappings):
    """The issue's case: the criterion and its outline item both removed, so the outline proof still passes."""
    policy = mappings / "policies" / "cp-phar-481-idecabtagene.yaml"
    data = yaml.safe_load(policy.read_text())
    data["outline"].remove("I.A.3")
    data["initial"]["criteria"]["criteria"] = [c for c in data["initial"]["criteria"]["criteria"] if c["id"] != "age"]
    policy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    assert CliRunner().invoke(main, ["lint", "--mappings", str(mappings)]).exit_code == 0  # the old proof passes
    text = SHARED_POLICIES / "002_c6b69c5c4e22c6c1.txt"
    result = CliRunner().invoke(main, ["lint", "--mappings", str(mappings), "--source", str(text)])
    assert result.exit_code == 1
    line = next(n for n, t in enumerate(text.read_text().splitlines(), 1) if t.startswith("3. Age"))
    assert f"002_c6b69c5c4e22c6c1.txt:{line}: item I.A.3 has no outline entry" in result.output


def _new_policy(mappings: Path, tmp_path: Path):
    """PAGE saved as a text file, and `new-policy` run on it into the mappings: (the text file, the result)."""
    page = tmp_path / "page.txt"
    page.write_text(PAGE)
    made = CliRunner().invoke(main, ["new-policy", "--from", str(page), "--id", "WD-1", "--drug", "hcpcs:J9999",
                                     "--name", "Widgetmab", "--mappings", str(mappings)])
    return page, made


def test_outline_items_covered_by_the_approval_duration_or_dose_limits(mappings, tmp_path):
    _, made = _new_policy(mappings, tmp_path)
    assert made.exit_code == 0, made.output
    data = yaml.safe_load((mappings / "policies" / "wd-1.yaml").read_text())
    assert data["initial"]["approval_duration_source"] == ["Coverage Duration.1"]
    assert data["continued"]["approval_duration_source"] == ["Coverage Duration.1"]
    assert data["dose_limits_source"] == ["Dosing.1"]
    data.update(revision="2031-01", dose_limits_source=["Dosing.9"])
    data["applies_to"][0]["payer"] = "wha"
    path = mappings / "policies" / "wd-1.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(MappingError) as info:
        _load(mappings, path)
    assert info.value.path == "$.dose_limits_source[0]" and "'Dosing.9' is not an item" in info.value.message


def test_new_policy_scaffold_is_driven_to_a_clean_lint(mappings, tmp_path):
    page, made = _new_policy(mappings, tmp_path)
    runner = CliRunner()
    assert made.exit_code == 0 and "wrote" in made.output, made.output
    policy = mappings / "policies" / "wd-1.yaml"
    data = yaml.safe_load(policy.read_text())
    assert data["outline"] == [i.id for i in items(PAGE)]
    group = data["initial"]["criteria"]["criteria"][1]
    assert group["kind"] == "any" and [c["source"] for c in group["criteria"]] == [
        "Coverage Criteria.2.1", "Coverage Criteria.2.2"]
    assert data["continued"]["criteria"]["criteria"][0]["text"] == "No progression while on therapy."
    source = ["--mappings", str(mappings), "--source", str(page), "--policy", "WD-1"]
    first = runner.invoke(main, ["lint", *source])
    assert first.exit_code == 1 and "$.revision" in first.output  # a TODO, named
    data.update(revision="2031-01", payer_label="Widget Health", source_document="Widgetmab criteria")
    data["applies_to"][0]["payer"] = "wha"
    policy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    clean = runner.invoke(main, ["lint", *source])
    assert clean.exit_code == 0 and "mappings OK" in clean.output, clean.output
    again = runner.invoke(main, ["new-policy", "--from", str(page), "--id", "WD-1", "--drug", "J9999",
                                 "--mappings", str(mappings)])
    assert again.exit_code == 1 and "exists; not overwriting" in again.output


def test_lint_source_needs_a_policy_when_the_text_quotes_none(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(PAGE)
    result = CliRunner().invoke(main, ["lint", "--source", str(page)])
    assert result.exit_code == 1 and "--policy ID" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["lint", "--source", str(page), "--policy", "NOPE"])
    assert result.exit_code == 1 and "no policy 'NOPE'" in result.output


def test_the_kinds_page_is_generated_from_the_schema():
    """docs/kinds.md drifts from the code: regenerate it with `pa-advisor kinds --markdown > docs/kinds.md`."""
    page = (ROOT / "docs" / "kinds.md").read_text(encoding="utf-8")
    assert page == markdown(DEFAULT_MAPPINGS)
    for kind, (required, optional) in PARAMS.items():
        assert f"## {kind}\n" in page
        for param in required | optional:
            assert f"| `{param}` |" in page


# ---- fixtures new -------------------------------------------------------------------------------------------


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    root = tmp_path / "fixtures"
    (root / "bundles").mkdir(parents=True)
    manifest = json.loads((FIXTURES_DIR / "manifest.json").read_text())
    manifest["scenarios"] = [s for s in manifest["scenarios"] if s["key"] == "elx-approve"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(FIXTURES_DIR / "bundles" / "elx-approve.json", root / "bundles")
    return root


def test_a_derived_fixture_renames_every_id_and_applies_the_changes(fixtures):
    sets = ["payer=Western Health Advantage", "plan=commercial", "drug=hcpcs:J9380", "weight=80 kg",
            "dose=4.8 mg@2026-11-23", "dose=120 mg/every 7 d@2026-11-27", "lab=33358-3:0.4 g/dL@2026-11-10",
            "attest=prescriber:yes", "birth=1950-01-02", "status=359746009@2026-11-01",
            "given=hcpcs:J9380@2026-10-01,2026-10-08"]
    out = add_fixture(fixtures, "elx-approve", "wd-new", sets, None, "a derived patient", DEFAULT_MAPPINGS)
    text = out.read_text()
    assert "elx-approve" not in text
    resources = [e["resource"] for e in json.loads(text)["entry"]]
    ids = [f"{r['resourceType']}/{r['id']}" for r in resources]
    assert len(ids) == len(set(ids))
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    assert by_type["Coverage"][0]["payor"][0]["display"] == "Western Health Advantage"
    assert by_type["Organization"][0]["name"] == "Western Health Advantage"
    assert by_type["Coverage"][0]["type"]["coding"][0]["code"] == "5"
    order = next(r for r in resources if r["id"] == "wd-new-order")
    assert order["medicationCodeableConcept"]["coding"][0]["code"] == "J9380"
    assert [d["doseAndRate"][0]["doseQuantity"]["value"] for d in order["dosageInstruction"]] == [4.8, 120]
    assert order["dosageInstruction"][1]["timing"]["repeat"]["period"] == 7
    assert by_type["Patient"][0]["birthDate"] == "1950-01-02"
    codes = [o["code"]["coding"][0]["code"] for o in by_type["Observation"]]
    assert {"29463-7", "97509-4"} <= set(codes) and codes.count("33358-3") == 2
    assert len(by_type["MedicationAdministration"]) == 2
    answers = by_type["QuestionnaireResponse"][-1]["item"]
    assert {"linkId": "prescriber", "answer": [{"valueBoolean": True}]} in answers
    manifest = json.loads((fixtures / "manifest.json").read_text())
    entry = manifest["scenarios"][-1]
    assert entry["derivedFrom"] == {"key": "elx-approve", "set": sets}
    assert entry["patientId"] == "wd-new-pt" and entry["draftOrders"][0] == order
    # Derived twice, the same bundle (the rebuild in fhir_fixtures/build.py relies on it), and a patient derived
    # from a derived one stays after its base when the base is derived again.
    add_fixture(fixtures, "wd-new", "wd-child", ["birth=1960-01-01"], None, "from a derived one", DEFAULT_MAPPINGS)
    again = add_fixture(fixtures, "elx-approve", "wd-new", sets, None, "a derived patient", DEFAULT_MAPPINGS)
    assert again.read_text() == text
    keys = [s["key"] for s in json.loads((fixtures / "manifest.json").read_text())["scenarios"]]
    assert keys == ["elx-approve", "wd-new", "wd-child"]


@pytest.mark.parametrize("change, message", [
    ("colour=red", "FIELD one of payer"),
    ("dose=a lot", "write AMOUNT UNIT"),
    ("lab=33358-3=1.2", "write LOINC:VALUE UNIT"),
    ("plan=gold", "one of commercial"),
    ("drug=J9380", "write a code as SYSTEM:CODE"),
    ("drop=99999-9", "no Condition, Observation or medication carries"),
    ("attest=prescriber:maybe", "CRITERION:yes"),
    ("birth=yesterday", "is not a date"),
])
def test_fixtures_new_mistakes_are_one_line(fixtures, change, message):
    result = CliRunner().invoke(main, ["fixtures", "new", "--from", "elx-approve", "--key", "wd-bad", "--set", change,
                                       "--expect", "none", "--describe", "x", "--fixtures-dir", str(fixtures)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output and not (fixtures / "bundles" / "wd-bad.json").exists()


def test_fixtures_new_refuses_an_unknown_base_and_a_built_key(fixtures):
    runner = CliRunner()
    common = ["--expect", "none", "--describe", "x", "--fixtures-dir", str(fixtures)]
    unknown = runner.invoke(main, ["fixtures", "new", "--from", "nope", "--key", "wd-x", *common])
    assert unknown.exit_code == 1 and "no such fixture" in unknown.output
    built = runner.invoke(main, ["fixtures", "new", "--from", "elx-approve", "--key", "elx-approve", *common])
    assert built.exit_code == 1 and "is a built fixture" in built.output


def test_rename_touches_ids_and_references_only():
    data = {"id": "elx-approve-pt", "reference": "Patient/elx-approve-pt", "text": "elx-approvement",
            "url": "Observation/elx-approve-obs1"}
    assert rename(data, "elx-approve", "new") == {"id": "new-pt", "reference": "Patient/new-pt",
                                                 "text": "elx-approvement", "url": "Observation/new-obs1"}


# ---- lint names file, line, criterion and parameter for every kind --------------------------------------------

# A criterion for each kind the shipped policies do not use yet (added under `conditions`).
SYNTHETIC = {
    "at_least": {"id": "syn-at-least", "source": "III.A", "kind": "at_least", "text": "At least one",
                 "params": {"n": 1},
                 "criteria": [{"id": "syn-child", "source": "III.A", "kind": "documentation", "text": "A child",
                               "request": "Doc"}]},
    "order_quantity": {"id": "syn-qty", "source": "III.A", "kind": "order_quantity", "text": "At most one",
                       "request": "Quantity", "params": {"max": 1}},
}
MUTATIONS = ("delete-required", "misspell", "unknown", "unknown-valueset")


def _cases() -> list[tuple[str, str]]:
    return [(kind, m) for kind, (required, optional) in sorted(PARAMS.items()) if required | optional
            for m in MUTATIONS
            if (m != "delete-required" or required)
            and (m != "unknown-valueset" or (required | optional) & CODESET_PARAMS)]


def _find(node, kind):
    if isinstance(node, dict):
        if node.get("kind") == kind and "id" in node:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            found = _find(value, kind)
            if found is not None:
                return found
    return None


def _load(root: Path, path: Path):
    return load_policy(path, mapping_schema(root, "policy.schema.json"), load_valuesets(root), load_payers(root))


@pytest.mark.parametrize("kind, mutation", _cases())
def test_every_kind_mistake_is_located(kind, mutation, mappings):
    """For each kind: a required parameter deleted, one misspelled, an unknown one added, a value set that does
    not exist: each refused with file:line, the criterion id and the parameter."""
    crit = path = data = None
    for path in sorted((mappings / "policies").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        crit = _find(data, kind)
        if crit is not None:
            break
    if crit is None:
        path = mappings / "policies" / "la-phar-652-elranatamab.yaml"
        data = yaml.safe_load(path.read_text())
        crit = json.loads(json.dumps(SYNTHETIC[kind]))
        data.setdefault("conditions", []).append(crit)
    required, optional = PARAMS[kind]
    params = crit.setdefault("params", {})
    if mutation == "delete-required":
        param = sorted(required)[0]
        params.pop(param, None)
    elif mutation == "misspell":
        param = sorted(set(params) or required | optional)[0]
        params[param + "x" if len(param) < 4 else param[:-1]] = params.pop(param, 1)
    elif mutation == "unknown":
        param = "bogus_param"
        params[param] = 1
    else:
        param = sorted((required | optional) & CODESET_PARAMS)[0]
        params[param] = "VS-NO-SUCH-SET"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    with pytest.raises(MappingError) as info:
        _load(mappings, path)
    message = located(info.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: \(criterion '{re.escape(crit['id'])}'\)", message), message
    assert param in message or param[:-1] in message, message
