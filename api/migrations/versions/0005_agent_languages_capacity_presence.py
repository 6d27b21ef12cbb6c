"""agents: the languages they serve, how many conversations they hold at once, their
presence, whether they are an admin, and whether they are still active

Existing agents serve nb, da and sv, hold up to 3 conversations, are offline until they open
the console or say otherwise, are not admins and stay active.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# written out, not imported: a later change of the model must not rewrite this revision
PRESENCES = ("online", "away", "offline")
MIN_CONVERSATIONS, MAX_CONVERSATIONS = 1, 20


def upgrade() -> None:
    # plain ADD COLUMN with a default (no table copy on SQLite, so the rows and the foreign
    # keys that point at agents stay as they are); the checks are written in the column
    # definitions, which SQLite and PostgreSQL both accept in ALTER TABLE ... ADD COLUMN
    op.add_column("agents", sa.Column("languages", sa.JSON(), nullable=False,
                                      server_default=sa.text("""'["nb", "da", "sv"]'""")))
    op.execute(
        "ALTER TABLE agents ADD COLUMN max_conversations INTEGER DEFAULT 3 NOT NULL "
        "CONSTRAINT agent_max_conversations CHECK (max_conversations BETWEEN "
        f"{MIN_CONVERSATIONS} AND {MAX_CONVERSATIONS})")
    allowed = ", ".join(f"'{presence}'" for presence in PRESENCES)
    op.execute(
        "ALTER TABLE agents ADD COLUMN presence VARCHAR(8) DEFAULT 'offline' NOT NULL "
        f"CONSTRAINT agent_presence CHECK (presence IN ({allowed}))")
    op.add_column("agents", sa.Column("is_admin", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.add_column("agents", sa.Column("active", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade() -> None:
    # dropping a column drops its own CHECK with it (SQLite 3.35+ and PostgreSQL)
    for column in ("active", "is_admin", "presence", "max_conversations", "languages"):
        op.drop_column("agents", column)
