"""feedback: seed the default bilingual taxonomy at install time

On SQLite the first request after install used to seed it, holding the write lock while
every other request waited; now the migration does it, in the migration's transaction.
A database that already has a taxonomy keeps it.

Revision ID: 0002a
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002a"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from cxloop.signals.feedback_taxonomy import seed_default_taxonomy

    seed_default_taxonomy(op.get_bind())


def downgrade() -> None:
    # The rows go with their tables when 0002 is downgraded; an admin's edits stay until then.
    pass
