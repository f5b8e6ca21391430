"""Value sets as reviewed data: the compiled sets equal a reviewed snapshot, and every clinically important member
(each BCMA agent, each CAR-T product, each CNS code or prefix, each MS DMT) is matched by the criterion it feeds.

A deliberate change to a value set updates tests/policy/golden/valuesets.json in the same commit (regenerate with
`python -m tests.policy.test_valuesets`), so the change is read in review rather than slipping through.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest
import simple_icd_10_cm as icd

from cdshooks.fhir.record import PatientRecord
from cdshooks.policy.loader import load_library
from cdshooks.policy.model import Status
from cdshooks.settings import DEFAULT_MAPPINGS

from .helpers import run_criterion

GOLDEN = Path(__file__).resolve().parent / "golden" / "valuesets.json"
LIBRARY = load_library(DEFAULT_MAPPINGS)
POLICIES = {p.id: p for p in LIBRARY.policies}
ANCHOR = date(2026, 11, 20)


def snapshot() -> dict:
    out = {}
    for vs_id, cs in sorted(LIBRARY.valuesets.items()):
        out[vs_id] = {"codes": sorted(f"{s}|{c}" for s, c in cs.codes),
                      "prefixes": sorted(f"{s}|{p}" for s, p in cs.prefixes), "names": sorted(set(cs.names))}
    return out


def test_value_sets_match_the_reviewed_snapshot():
    golden = json.loads(GOLDEN.read_text())
    current = snapshot()
    assert current.keys() == golden.keys()
    for vs_id in golden:
        assert current[vs_id] == golden[vs_id], f"{vs_id} changed: review it and update {GOLDEN.name}"


def a_code_under(prefix: str) -> str:
    """A real ICD-10-CM code under a prefix (the prefix itself when it is a code)."""
    if icd.is_leaf(prefix):
        return prefix
    return next(c for c in icd.get_descendants(prefix) if icd.is_leaf(c))


def members(vs_id: str) -> list[tuple[str, str]]:
    """Every code of the reviewed snapshot (not of the loaded mappings: a code dropped from a mapping must fail)."""
    golden = json.loads(GOLDEN.read_text())[vs_id]
    out = [tuple(c.split("|", 1)) for c in golden["codes"]]
    out += [(s, a_code_under(p)) for s, p in (c.split("|", 1) for c in golden["prefixes"])]
    return out


def run(policy: str, criterion: str, resources: list[dict], draft_changes: dict | None = None) -> Status:
    return run_criterion(POLICIES[policy], criterion, resources, draft_changes)


def coded(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def administered(system: str, code: str) -> dict:
    if system.endswith("cpt") or system.endswith("ICD10"):
        return {"resourceType": "Procedure", "id": "x", "status": "completed", "subject": {"reference": "Patient/p1"},
                "code": coded(system, code), "performedDateTime": "2025-01-10"}
    return {"resourceType": "MedicationAdministration", "id": "x", "status": "completed",
            "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": coded(system, code),
            "effectiveDateTime": "2025-01-10"}


@pytest.mark.parametrize("system, code", members("DRUG-BCMA"), ids=lambda v: str(v)[-12:])
def test_every_anti_bcma_agent_given_before_denies_abecma(system, code):
    assert run("CP.PHAR.481", "no-prior-bcma", [administered(system, code)]) is Status.NOT_MET


@pytest.mark.parametrize("name", ["Lynozyfic (linvoseltamab-gcpt)", "linvoseltamab", "Blenrep", "Carvykti",
                                  "cilta-cel", "Tecvayli", "Elrexfio", "Abecma"])
def test_every_anti_bcma_product_named_only_in_text_denies_abecma(name):
    dose = {**administered("urn:local", "x"), "medicationCodeableConcept": {"text": name}}
    assert run("CP.PHAR.481", "no-prior-bcma", [dose]) is Status.NOT_MET


@pytest.mark.parametrize("system, code", members("DRUG-CART"), ids=lambda v: str(v)[-12:])
def test_every_car_t_product_or_infusion_given_before_denies_abecma(system, code):
    assert run("CP.PHAR.481", "no-prior-cart", [administered(system, code)]) is Status.NOT_MET


def condition(system: str, code: str) -> dict:
    return {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p1"}, "code": coded(system, code),
            "clinicalStatus": {"coding": [{"code": "resolved"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]}}


@pytest.mark.parametrize("system, code", members("VS-CNS"), ids=lambda v: str(v)[-12:])
def test_every_named_cns_pathology_even_resolved_denies_abecma(system, code):
    assert run("CP.PHAR.481", "no-cns", [condition(system, code)]) is Status.NOT_MET


@pytest.mark.parametrize("system, code", members("VS-CNS-ASK"), ids=lambda v: str(v)[-12:])
def test_borderline_neurological_history_is_asked_about(system, code):
    assert run("CP.PHAR.481", "no-cns", [condition(system, code)]) is Status.MISSING


@pytest.mark.parametrize("code", ["S06.0X0A", "G43.909", "R51.9", "G47.33"])
def test_common_neurological_findings_the_policy_does_not_name_do_not_count(code):
    """Concussion without loss of consciousness, migraine, headache, sleep apnoea."""
    assert run("CP.PHAR.481", "no-cns", [condition("http://hl7.org/fhir/sid/icd-10-cm", code)]) is Status.MET


def current_order(system: str, code: str) -> dict:
    return {"resourceType": "MedicationRequest", "id": "dmt", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": coded(system, code),
            "authoredOn": "2026-10-01"}


@pytest.mark.parametrize("system, code", members("DRUG-MS-DMT"), ids=lambda v: str(v)[-12:])
def test_every_other_ms_dmt_ordered_now_blocks_lemtrada(system, code):
    assert run("CP.PHAR.243", "no-concurrent-dmt", [current_order(system, code)]) is Status.NOT_MET


@pytest.mark.parametrize("name", ["Kesimpta", "ofatumumab", "Ocrevus Zunovo", "Tyruko", "Vumerity", "Bafiertam",
                                  "Tascenso ODT", "Briumvi", "Mavenclad", "Zeposia", "Ponvory", "Mayzent"])
def test_every_appendix_d_dmt_named_only_in_text_blocks_lemtrada(name):
    order = {**current_order("urn:local", "x"), "medicationCodeableConcept": {"text": name}}
    assert run("CP.PHAR.243", "no-concurrent-dmt", [order]) is Status.NOT_MET


if __name__ == "__main__":  # regenerate the snapshot after a reviewed change
    GOLDEN.write_text(json.dumps(snapshot(), indent=1) + "\n")
    sys.exit(0)


def active(system: str, code: str) -> dict:
    return {"resourceType": "Condition", "id": "dx", "subject": {"reference": "Patient/p1"},
            "code": coded(system, code), "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]}}


DIAGNOSIS_MEMBERS = [  # (value set, policy, criterion, the status a member of the set gives)
    ("VS-MM", "LA.PHAR.652", "dx-mm", Status.MET),
    ("VS-MM", "CP.PHAR.481", "dx-mm", Status.MET),
    ("VS-MM-RELAPSE", "LA.PHAR.652", "rr-coded", Status.MET),
    ("VS-BALL", "MP-RX-FP-14-23", "dx-all", Status.MET),
    ("VS-BALL-RELAPSE", "MP-RX-FP-14-23", "rr-coded", Status.MET),
    ("VS-BALL-REMISSION", "MP-RX-FP-14-23", "rr-dosing-remission", Status.MET),
    ("VS-MS-RR-SP", "CP.PHAR.243", "dx-ms", Status.MET),
    ("VS-MS-PP", "CP.PHAR.243", "dx-ms", Status.NOT_MET),
    ("VS-MS-UNSPECIFIED", "CP.PHAR.243", "dx-ms", Status.MISSING),
    ("VS-MS-SP-NONACTIVE", "CP.PHAR.243", "dx-ms", Status.MISSING),  # asked: the label says active SPMS
]


@pytest.mark.parametrize("vs_id, policy, criterion, status, system, code",
                         [(*row[:4], s, c) for row in DIAGNOSIS_MEMBERS for s, c in members(row[0])],
                         ids=lambda v: str(v)[-14:])
def test_every_diagnosis_code_gives_its_criterion_the_reviewed_answer(vs_id, policy, criterion, status, system,
                                                                     code):
    """Relapsing or progressive MS, unspecified MS, each myeloma and B-ALL code (ICD-10-CM and SNOMED)."""
    assert run(policy, criterion, [active(system, code)]) is status


# Every policy's own drug value set (discovered: a new policy file is covered without editing this test).
ROUTED = [(policy.id, s, c) for policy in LIBRARY.policies for s, c in members(policy.drug_codes.id)]


@pytest.mark.parametrize("policy, system, code", ROUTED, ids=lambda v: str(v)[-14:])
def test_every_product_code_of_a_policy_drug_routes_the_order_to_that_policy(policy, system, code):
    """RxNorm products, NDCs and HCPCS codes: a code dropped from the drug's value set would leave its orders
    without a card."""
    from cdshooks.policy.routing import governing_policies

    assert policy in [p.id for p, _ in governing_policies(LIBRARY, [coded(system, code)])]


@pytest.mark.parametrize("system, code", members("DRUG-CAMPATH"), ids=lambda v: str(v)[-14:])
def test_campath_products_never_route_to_the_lemtrada_policy(system, code):
    from cdshooks.policy.routing import governing_policies

    assert "CP.PHAR.243" not in [p.id for p, _ in governing_policies(LIBRARY, [coded(system, code)])]


@pytest.mark.parametrize("system, code", members("DRUG-CAMPATH"), ids=lambda v: str(v)[-14:])
def test_a_campath_product_also_coded_as_the_alemtuzumab_ingredient_is_never_lemtrada_even_with_ms(system, code):
    """An oncology Campath order the EHR codes with both its product and the ingredient (RxNorm 117055) stays
    out of the MS policy, even for a patient with MS (CP.PHAR.243 covers Lemtrada only)."""
    from cdshooks.policy.routing import governing_policies, routes_to

    concept = {"coding": [{"system": system, "code": code},
                          {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "117055"}]}
    order = {"resourceType": "MedicationRequest", "id": "o", "status": "draft", "intent": "order",
             "medicationCodeableConcept": concept}
    record = PatientRecord.from_resources("p1", [active(*members("VS-MS-ANY")[0])], draft_orders=[order])
    routed = [p.id for p, _ in governing_policies(LIBRARY, [concept]) if routes_to(p, order, record)]
    assert "CP.PHAR.243" not in routed
    # The ingredient alone, for the same patient, is Lemtrada: the product code is what keeps Campath out.
    alone = {**order, "medicationCodeableConcept": coded("http://www.nlm.nih.gov/research/umls/rxnorm", "117055")}
    assert "CP.PHAR.243" in [p.id for p, _ in governing_policies(LIBRARY, [alone["medicationCodeableConcept"]])
                             if routes_to(p, alone, record)]


@pytest.mark.parametrize("system, code", members("VS-MS-ANY"), ids=lambda v: str(v)[-14:])
def test_a_plain_alemtuzumab_order_is_lemtrada_for_any_ms_diagnosis(system, code):
    from cdshooks.policy.routing import routes_to

    order = {"resourceType": "MedicationRequest", "id": "o", "status": "draft", "intent": "order",
             "medicationCodeableConcept": coded("http://www.nlm.nih.gov/research/umls/rxnorm", "117055")}
    record = PatientRecord.from_resources("p1", [active(system, code)], draft_orders=[order])
    assert routes_to(POLICIES["CP.PHAR.243"], order, record)


def _not_the_ordered_drug(policy: str, vs_id: str) -> list[tuple[str, str]]:
    drug = POLICIES[policy].ordered_drug
    return [(s, c) for s, c in members(vs_id) if not drug.match([coded(s, c)])]


@pytest.mark.parametrize("criterion, vs_id", [("prior-pi", "DRUG-PI"), ("prior-imid", "DRUG-IMID"),
                                              ("prior-cd38", "DRUG-CD38")])
def test_every_member_of_a_required_class_given_before_meets_elrexfio_prior_therapy(criterion, vs_id):
    for system, code in members(vs_id):
        assert run("LA.PHAR.652", criterion, [administered(system, code)]) is Status.MET, (vs_id, code)


@pytest.mark.parametrize("system, code", _not_the_ordered_drug("LA.PHAR.652", "DRUG-ANTIMM"),
                         ids=lambda v: str(v)[-14:])
def test_every_other_anti_myeloma_drug_ordered_now_is_not_elrexfio_monotherapy(system, code):
    assert run("LA.PHAR.652", "monotherapy", [current_order(system, code)]) is Status.NOT_MET


@pytest.mark.parametrize("system, code", members("DRUG-ALL-CHEMO"), ids=lambda v: str(v)[-14:])
def test_every_other_anti_leukemic_drug_ordered_now_is_not_single_agent_blincyto(system, code):
    assert run("MP-RX-FP-14-23", "single-agent", [current_order(system, code)]) is Status.NOT_MET


@pytest.mark.parametrize("system, code", members("STATUS-RESPONDING"), ids=lambda v: str(v)[-14:])
def test_every_responding_status_meets_elrexfio_continued_response(system, code):
    status_obs = {"resourceType": "Observation", "id": "st", "status": "final", "subject": {"reference": "Patient/p1"},
                  "code": coded("http://loinc.org", "97509-4"), "effectiveDateTime": "2026-11-10",
                  "valueCodeableConcept": coded(system, code)}
    assert run("LA.PHAR.652", "responding", [status_obs]) is Status.MET


def _result(system: str, code: str, when: str, **value: object) -> dict:
    return {"resourceType": "Observation", "id": f"obs-{code}", "status": "final", "code": coded(system, code),
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when, **value}


@pytest.mark.parametrize("system, code", members("LAB-FLC-RATIO"), ids=lambda v: str(v)[-14:])
def test_every_flc_ratio_code_is_read_as_the_ratio(system, code):
    """Each LOINC code a lab may report the κ/λ ratio under (LA.PHAR.652 I.A.5.a.iii)."""
    ucum = "http://unitsofmeasure.org"
    kappa = _result("http://loinc.org", "36916-5", "2026-11-12",
                    valueQuantity={"value": 15, "unit": "mg/dL", "system": ucum, "code": "mg/dL"})
    ratio = _result(system, code, "2026-11-12",
                    valueQuantity={"value": 18.75, "unit": "1", "system": ucum, "code": "1"})
    assert run("LA.PHAR.652", "flc", [kappa, ratio]) is Status.MET


@pytest.mark.parametrize("system, code", members("STATUS-STABLE-OR-BETTER"), ids=lambda v: str(v)[-14:])
def test_every_stable_or_better_status_shows_no_progression(system, code):
    """MP-RX-FP-14-23 B.i "no evidence of disease progression": stable, responding and remission statuses."""
    dose = {"resourceType": "MedicationAdministration", "id": "dose", "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": coded("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "J9039"),
            "effectivePeriod": {"start": "2026-10-01", "end": "2026-10-28"}}
    status = _result("http://loinc.org", "97509-4", "2026-11-10", valueCodeableConcept=coded(system, code))
    assert run("MP-RX-FP-14-23", "no-progression", [dose, status]) is Status.MET
