"""messages: the customer's own id for a message (stored once however often it is sent),
until when its bot answer may take, and which customer message a reply answers

Existing messages have no client id, await no answer and answer nothing the service knows of.
Uniqueness is a unique index rather than a table constraint: SQLite cannot add a constraint
to an existing table without copying it, and both databases let NULLs (clients that send no
id) repeat in a unique index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("client_message_id", sa.String(length=64), nullable=True))
    op.add_column("messages", sa.Column("answer_due_by", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("reply_to", sa.Integer(), nullable=True))
    op.create_index("uq_messages_client_message_id", "messages",
                    ["conversation_id", "client_message_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_messages_client_message_id", table_name="messages")
    for column in ("reply_to", "answer_due_by", "client_message_id"):
        op.drop_column("messages", column)
