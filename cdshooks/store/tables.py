"""The tables, as SQLAlchemy Core metadata: what the queries are written against. The schema itself is created
and changed only by the migrations (migrations/versions/)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Double, Index, Integer, MetaData, Table, Text

metadata = MetaData()
# SQLite's INTEGER PRIMARY KEY is the row id (autoincrement); PostgreSQL gets a BIGINT identity.
ID = BigInteger().with_variant(Integer(), "sqlite")

feedback = Table(
    "feedback", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("service_id", Text, nullable=False),
    Column("card_uuid", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("outcome_timestamp", Text, nullable=False),
    Column("accepted_suggestions", Text),
    Column("override_reason", Text),
    Column("received_at", Double, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("hook_instance", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("received_at", Double, nullable=False),
    Column("jwt_iss", Text),
    Column("jwt_jti", Text),
    Column("status", Integer, nullable=False),
    Column("orders", Text, nullable=False),
    Column("outcomes", Text, nullable=False),
    Column("latency_ms", Double, nullable=False),
    Index("audit_received", "received_at"),
)

# One row per JWT (issuer|jti) accepted, until the token could no longer be used anyway.
jwt_seen = Table(
    "jwt_seen", metadata,
    Column("key", Text, primary_key=True),
    Column("expires_at", Double, nullable=False),
)

# The evaluation behind a CRD coverage-assertion-id, for a DTR pre-filled form: criterion ids, statuses,
# evidence text (never resources), kept PA_DTR_CONTEXT_HOURS.
dtr_context = Table(
    "dtr_context", metadata,
    Column("id", Text, primary_key=True),
    Column("policy_id", Text, nullable=False),
    Column("patient_id", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("expires_at", Double, nullable=False),
    Index("dtr_context_patient", "patient_id"),
    Index("dtr_context_expires", "expires_at"),
)

# A completed QuestionnaireResponse sent to us ("Send to Payer"), kept as long as its coverage assertion, with
# the assertion's binding (who may read it: {"iss", "token_sha256"}); read by every signing for the patient.
dtr_response = Table(
    "dtr_response", metadata,
    Column("id", Text, primary_key=True),
    Column("assertion_id", Text, nullable=False),
    Column("patient_id", Text, nullable=False),
    Column("policy_id", Text, nullable=False),
    Column("binding", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("expires_at", Double, nullable=False),
    Index("dtr_response_patient", "patient_id", "expires_at"),
)
