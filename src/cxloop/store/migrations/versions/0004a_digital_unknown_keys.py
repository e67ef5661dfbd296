"""digital: collector rejections that name no active site, counted per key, day and reason

Revision ID: 0004a
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxloop.store.base

revision: str = "0004a"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digital_unknown_key_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digital_unknown_key_counts")),
        sa.UniqueConstraint(
            "site_key",
            "day",
            "reason",
            name=op.f("uq_digital_unknown_key_counts_site_key_day_reason"),
        ),
    )


def downgrade() -> None:
    op.drop_table("digital_unknown_key_counts")
