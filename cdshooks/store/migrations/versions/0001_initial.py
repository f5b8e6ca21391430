"""The first schema: feedback, audit, jwt_seen, dtr_context.

Databases made before migrations existed (the same tables, created with CREATE TABLE IF NOT EXISTS) are adopted
as they are: only missing tables and indexes are created.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "feedback" not in have:
        op.create_table(
            "feedback",
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("service_id", sa.Text, nullable=False),
            sa.Column("card_uuid", sa.Text, nullable=False),
            sa.Column("outcome", sa.Text, nullable=False),
            sa.Column("outcome_timestamp", sa.Text, nullable=False),
            sa.Column("accepted_suggestions", sa.Text),
            sa.Column("override_reason", sa.Text),
            sa.Column("received_at", sa.Double, nullable=False),
        )
    if "audit" not in have:
        op.create_table(
            "audit",
            sa.Column("id", ID, primary_key=True, autoincrement=True),
            sa.Column("hook_instance", sa.Text, nullable=False),
            sa.Column("service_id", sa.Text, nullable=False),
            sa.Column("received_at", sa.Double, nullable=False),
            sa.Column("jwt_iss", sa.Text),
            sa.Column("jwt_jti", sa.Text),
            sa.Column("status", sa.Integer, nullable=False),
            sa.Column("orders", sa.Text, nullable=False),
            sa.Column("outcomes", sa.Text, nullable=False),
            sa.Column("latency_ms", sa.Double, nullable=False),
        )
    if "audit_received" not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("audit")}:
        op.create_index("audit_received", "audit", ["received_at"])
    if "jwt_seen" not in have:
        op.create_table(
            "jwt_seen",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("expires_at", sa.Double, nullable=False),
        )
    if "dtr_context" not in have:
        op.create_table(
            "dtr_context",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("policy_id", sa.Text, nullable=False),
            sa.Column("patient_id", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("expires_at", sa.Double, nullable=False),
        )


def downgrade() -> None:
    for table in ("dtr_context", "jwt_seen", "audit", "feedback"):
        op.drop_table(table)
