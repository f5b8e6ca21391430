"""The policy core: compiled payer policies evaluated on a PatientRecord, in three-valued logic.

Rule: this package does no I/O. It imports neither Flask nor requests (ruff's banned-api rule enforces it);
its input is a PatientRecord and a compiled Policy, its output an Evaluation.
"""
