"""surveys: completed responses wait for the listeners in a job, not in the request

Revision ID: 0003a
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003a"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Responses stored before this were published in their own request: none is pending.
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("publish_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    pending = sa.column("publish_pending", sa.Boolean()) == sa.true()
    op.create_index(
        "ix_survey_responses_publish_pending",
        "survey_responses",
        ["id"],
        unique=False,
        sqlite_where=pending,
        postgresql_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_survey_responses_publish_pending", table_name="survey_responses")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_column("publish_pending")
