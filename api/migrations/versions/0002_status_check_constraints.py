"""statuses as enums: CHECK constraints on the status columns

The columns stay VARCHAR with the same strings ("queued", "with_agent", ...): the models
map them to the enums of core/vocabulary.py (SQLAlchemy Enum, native_enum=False), and the
database now refuses any other value. Batch mode, so SQLite recreates the tables (it cannot
add a constraint in place); PostgreSQL alters them in place.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00.000000
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# (table, constraint name, allowed values); the values are those of
# core.vocabulary's ConversationStatus, EscalationStatus and OutboxStatus as of this revision,
# written out so that a later change of the enums does not rewrite history
STATUSES = (
    ("conversations", "conversation_status", ("bot", "queued", "with_agent", "closed")),
    ("escalations", "escalation_status", ("queued", "with_agent", "closed")),
    ("outbox", "outbox_status", ("pending", "delivered", "failed")),
)


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _sqlite_foreign_keys(on: bool) -> None:
    # SQLite drops and recreates a table in batch mode; with foreign keys enforced, dropping a
    # table that messages and escalations refer to would fail (the pragma is a no-op inside a
    # transaction, i.e. on a fresh database, where the tables are empty anyway; so on SQLite,
    # downgrade through this revision one revision per transaction)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade() -> None:
    _sqlite_foreign_keys(False)
    for table, name, values in STATUSES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(name, _in(values))
    _sqlite_foreign_keys(True)


def downgrade() -> None:
    _sqlite_foreign_keys(False)
    for table, name, _values in reversed(STATUSES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='check')
    _sqlite_foreign_keys(True)
