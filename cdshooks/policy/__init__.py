"""The policy core: compiled payer policies evaluated on a PatientRecord, in three-valued logic.

Rule: this package does no I/O. It imports only itself, the pure-data FHIR modules (fhir.codes, fhir.dates,
fhir.quantity, fhir.record) and errors — never Flask, HTTP, a database or the web and service layers
(ruff's banned-api rule and tests/test_layout.py enforce it). Its input is a PatientRecord and a compiled
Policy, its output an Evaluation.
"""
