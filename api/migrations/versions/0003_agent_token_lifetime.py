"""agent tokens expire and can be revoked: when the token was issued, and whether it still works

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD / DROP COLUMN (SQLite 3.35+ has both): no table is copied, so the rows and
    # the foreign keys that point at agents stay as they are
    op.add_column("agents", sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("agents", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    # tokens that exist already count as issued now: they get a full lifetime, not none
    op.execute(sa.text("UPDATE agents SET token_issued_at = CURRENT_TIMESTAMP"))


def downgrade() -> None:
    op.drop_column("agents", "revoked_at")
    op.drop_column("agents", "token_issued_at")
