"""A broken mapping file is refused with the file and the JSON path of the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cdshooks.authoring.lint import lint_mappings, loinc_check_digit_ok
from cdshooks.errors import MappingError
from cdshooks.policy.loader import load_library
from cdshooks.settings import DEFAULT_MAPPINGS

POLICY = "policies/la-phar-652-elranatamab.yaml"


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    root = tmp_path / "mappings"
    shutil.copytree(DEFAULT_MAPPINGS, root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> Path:
    path = root / rel
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def refused(root: Path) -> MappingError:
    with pytest.raises(MappingError) as info:
        load_library(root)
    return info.value


def test_the_bundled_mappings_load_and_lint_clean():
    library = load_library(DEFAULT_MAPPINGS)
    # The seed policies are all there (a pharmacist's fifth one must not break this).
    assert {"LA.PHAR.652", "CP.PHAR.481", "MP-RX-FP-14-23", "CP.PHAR.243"} <= {p.id for p in library.policies}
    problems, _ = lint_mappings(DEFAULT_MAPPINGS)
    assert problems == []


@pytest.mark.parametrize("old, new, path_part, message", [
    ("kind: age\n", "kind: birthday\n", "$.initial.criteria.criteria[2].kind", "unknown criterion kind"),
    ("order_reason: true, codes: VS-MM}", "order_reason: true, codes: VS-NOPE}", ".params.codes", "unknown value set"),
    ("threshold: 0.5 g/dL", "threshold: 0.5 grams", ".params.threshold", "UCUM"),
    ("source: I.A.3\n", "source: I.A.99\n", ".source", "not an item of the policy outline"),
    ("payer: lhcc", "payer: nobody", "$.applies_to[0].payer", "unknown payer"),
    ("id: age\n", "id: dx-mm\n", ".id", "used twice"),
    ("params: {ref: dx-mm, note: the request", "params: {ref: ghost, note: the request", ".params.ref",
     "unknown criterion"),
])
def test_policy_errors_name_file_and_path(mappings, old, new, path_part, message):
    edit(mappings, POLICY, old, new)
    err = refused(mappings)
    assert err.file.endswith("la-phar-652-elranatamab.yaml")
    assert path_part in err.path and message in err.message


def test_schema_violation_names_the_path(mappings):
    edit(mappings, POLICY, "payer_label: Louisiana Healthcare Connections", "payer_label: 42")
    err = refused(mappings)
    assert err.path == "$.payer_label" and "string" in err.message


def test_an_outline_item_without_a_criterion_is_refused(mappings):
    edit(mappings, POLICY, "outline: [I.A.1,", "outline: [I.A.1, I.A.42,")
    err = refused(mappings)
    assert err.path == "$.outline" and "I.A.42" in err.message


def test_invalid_yaml_names_the_line(mappings):
    edit(mappings, POLICY, "title: Elranatamab-bcmm (Elrexfio)", "title: [unclosed")
    err = refused(mappings)
    assert "not valid YAML" in err.message and err.path.startswith("line ")


def test_value_set_errors(mappings):
    edit(mappings, "valuesets/diagnoses.yaml", "[icd10cm, C90.00,", "[icd9, C90.00,")
    err = refused(mappings)
    assert err.file.endswith("diagnoses.yaml") and "unknown code system" in err.message
    assert err.path == "$.valuesets.VS-MM.codes[0]"


def test_lint_reports_codes_that_do_not_exist(mappings):
    edit(mappings, "valuesets/diagnoses.yaml", "[icd10cm, C90.01,", "[icd10cm, C90.09,")
    edit(mappings, "valuesets/observations.yaml", "[loinc, 33358-3,", "[loinc, 33358-4,")
    edit(mappings, "valuesets/drugs.yaml", "[hcpcs, J1323,", "[hcpcs, J13,")
    problems, _ = lint_mappings(mappings)
    text = "\n".join(problems)
    assert "C90.09 is not in ICD-10-CM" in text
    assert "33358-4 fails the LOINC check digit" in text
    assert "'J13' is not a well-formed hcpcs code" in text


def test_lint_keeps_going_after_a_broken_policy_file(mappings):
    edit(mappings, POLICY, "kind: age\n", "kind: birthday\n")
    problems, notes = lint_mappings(mappings)
    assert len(problems) == 1 and "birthday" in problems[0]
    assert any("CP.PHAR.481" in n for n in notes)


@pytest.mark.parametrize("code, ok", [("33358-3", True), ("42482-0", True), ("104546-7", True), ("32730-5", False)])
def test_loinc_check_digit(code, ok):
    assert loinc_check_digit_ok(code) is ok
