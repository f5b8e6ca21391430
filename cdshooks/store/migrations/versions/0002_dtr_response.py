"""DTR answers sent to us ("Send to Payer"), kept with their coverage assertion; indexes the hook path reads by.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dtr_response",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("assertion_id", sa.Text, nullable=False),
        sa.Column("patient_id", sa.Text, nullable=False),
        sa.Column("policy_id", sa.Text, nullable=False),
        sa.Column("binding", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
    )
    # Every signing asks for its patient's kept answers; contexts are read by patient and purged by expiry.
    op.create_index("dtr_response_patient", "dtr_response", ["patient_id", "expires_at"])
    op.create_index("dtr_context_patient", "dtr_context", ["patient_id"])
    op.create_index("dtr_context_expires", "dtr_context", ["expires_at"])


def downgrade() -> None:
    op.drop_index("dtr_context_expires", "dtr_context")
    op.drop_index("dtr_context_patient", "dtr_context")
    op.drop_table("dtr_response")
