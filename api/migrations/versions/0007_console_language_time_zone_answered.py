"""agents: the language they read the console in and the time zone of its times;
escalations: the topics the bot answered before the hand-off

Existing agents have chosen no console language (NULL: they read the console in the first
customer language they serve, else in English) and see times in Europe/Oslo. Existing
escalations answered nothing that the service knows of.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# written out, not imported: a later change of the model must not rewrite this revision
CONSOLE_LANGUAGES = ("nb", "da", "sv", "en")
DEFAULT_TIME_ZONE = "Europe/Oslo"


def upgrade() -> None:
    # plain ADD COLUMN (no table copy on SQLite), the check written in the column definition
    # as in 0005; the time zone is checked by the service (zoneinfo), not by the database
    allowed = ", ".join(f"'{language}'" for language in CONSOLE_LANGUAGES)
    op.execute(
        "ALTER TABLE agents ADD COLUMN console_language VARCHAR(2) "
        f"CONSTRAINT agent_console_language CHECK (console_language IN ({allowed}))")
    op.add_column("agents", sa.Column("time_zone", sa.String(length=64), nullable=False,
                                      server_default=DEFAULT_TIME_ZONE))
    op.add_column("escalations", sa.Column("answered", sa.JSON(), nullable=False,
                                           server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column("escalations", "answered")
    for column in ("time_zone", "console_language"):
        op.drop_column("agents", column)
