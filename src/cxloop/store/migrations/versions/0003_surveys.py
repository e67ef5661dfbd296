"""surveys

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cxloop.store.base

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_sensitivity_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("programs", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_survey_sensitivity_rules_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_sensitivity_rules")),
    )
    with op.batch_alter_table("survey_sensitivity_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_sensitivity_rules_org_unit_id"), ["org_unit_id"], unique=False
        )

    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column("embed_origins", sa.JSON(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("closes_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_surveys_org_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("key", name=op.f("uq_surveys_key")),
        sa.UniqueConstraint("public_token", name=op.f("uq_surveys_public_token")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_org_unit_id"), ["org_unit_id"], unique=False)

    op.create_table(
        "survey_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("received_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_events_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_survey_events_org_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_events")),
        sa.UniqueConstraint("type", "external_id", name=op.f("uq_survey_events_type_external_id")),
    )
    with op.batch_alter_table("survey_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_events_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_events_org_unit_id"), ["org_unit_id"], unique=False
        )

    op.create_table(
        "survey_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("unknown_customer", sa.String(length=16), nullable=False),
        sa.Column("reminder_after_days", sa.Integer(), nullable=True),
        sa.Column("expires_after_days", sa.Integer(), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=True),
        sa.Column("next_wave_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("created_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_survey_programs_org_unit_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_programs_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_programs")),
        sa.UniqueConstraint("key", name=op.f("uq_survey_programs_key")),
    )
    with op.batch_alter_table("survey_programs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_programs_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_programs_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_unsubscribes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_unsubscribes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_survey_unsubscribes_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_unsubscribes")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_survey_unsubscribes_customer_id")),
    )
    with op.batch_alter_table("survey_unsubscribes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_unsubscribes_org_unit_id"), ["org_unit_id"], unique=False
        )

    op.create_table(
        "survey_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_survey_versions_org_unit_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_versions_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_versions")),
        sa.UniqueConstraint(
            "survey_id", "number", name=op.f("uq_survey_versions_survey_id_number")
        ),
    )
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_versions_org_unit_id"), ["org_unit_id"], unique=False
        )

    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("wave", sa.String(length=64), nullable=False),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("due_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reminder_sent_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("created_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["survey_events.id"],
            name=op.f("fk_survey_invitations_event_id_survey_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_survey_invitations_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["survey_programs.id"],
            name=op.f("fk_survey_invitations_program_id_survey_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_invitations_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_survey_invitations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_invitations_status_due", ["status", "due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_invitations_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("form_nonce", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("touchpoint", sa.String(length=100), nullable=True),
        sa.Column("wave", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("ces", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("feedback_ids", sa.JSON(), nullable=False),
        sa.Column("comment_pending", sa.Boolean(), nullable=False),
        sa.Column("started_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", cxloop.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_responses_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["survey_events.id"],
            name=op.f("fk_survey_responses_event_id_survey_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_survey_responses_invitation_id_survey_invitations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_survey_responses_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["survey_programs.id"],
            name=op.f("fk_survey_responses_program_id_survey_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["survey_versions.id"],
            name=op.f("fk_survey_responses_version_id_survey_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("form_nonce", name=op.f("uq_survey_responses_form_nonce")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_responses_invitation_id")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_comment_pending"), ["comment_pending"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_completed_at"), ["completed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_responses_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_customer_id"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_completed_at"))
        batch_op.drop_index(batch_op.f("ix_survey_responses_comment_pending"))

    op.drop_table("survey_responses")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_invitations_survey_id"))
        batch_op.drop_index("ix_survey_invitations_status_due")
        batch_op.drop_index(batch_op.f("ix_survey_invitations_program_id"))
        batch_op.drop_index(batch_op.f("ix_survey_invitations_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_survey_invitations_customer_id"))

    op.drop_table("survey_invitations")
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_versions_org_unit_id"))

    op.drop_table("survey_versions")
    with op.batch_alter_table("survey_unsubscribes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_unsubscribes_org_unit_id"))

    op.drop_table("survey_unsubscribes")
    with op.batch_alter_table("survey_programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_programs_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_programs_org_unit_id"))

    op.drop_table("survey_programs")
    with op.batch_alter_table("survey_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_events_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_survey_events_customer_id"))

    op.drop_table("survey_events")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_org_unit_id"))

    op.drop_table("surveys")
    with op.batch_alter_table("survey_sensitivity_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_sensitivity_rules_org_unit_id"))

    op.drop_table("survey_sensitivity_rules")
