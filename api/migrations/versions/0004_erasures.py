"""erasure: a record of every erasure, and whose conversation each outbox event is about

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_hash", sa.String(length=64), nullable=False),
        sa.Column("escalation_references", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("outbox_events", sa.Integer(), nullable=False),
        sa.Column("tracker_events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasures_conversation_hash", "erasures", ["conversation_hash"])
    # plain ADD COLUMN (no table copy), then the events already there learn whose they are:
    # escalation events name the conversation, message events the escalation's reference
    op.add_column("outbox", sa.Column("conversation_id", sa.String(length=40), nullable=True))
    op.create_index("ix_outbox_conversation_id", "outbox", ["conversation_id"])
    connection = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("payload", sa.JSON()),
                      sa.column("conversation_id", sa.String()))
    escalations = sa.table("escalations", sa.column("reference", sa.String()),
                           sa.column("conversation_id", sa.String()))
    by_reference = dict(connection.execute(
        sa.select(escalations.c.reference, escalations.c.conversation_id)).all())
    for event_id, payload in connection.execute(sa.select(outbox.c.id, outbox.c.payload)).all():
        payload = payload if isinstance(payload, dict) else {}
        owner = payload.get("conversation_id") or by_reference.get(payload.get("reference"))
        if owner:
            connection.execute(sa.update(outbox).where(outbox.c.id == event_id)
                               .values(conversation_id=owner))


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation_id", table_name="outbox")
    op.drop_column("outbox", "conversation_id")
    op.drop_index("ix_erasures_conversation_hash", table_name="erasures")
    op.drop_table("erasures")
