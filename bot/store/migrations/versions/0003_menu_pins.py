"""Topic menus: the order an admin pinned for a topic's menu (bot/store/menus.py), shown before the question log's
most answered and the default order.

Revision 0003, after 0002.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "menu_pins",
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=120), nullable=False),
        sa.Column("pinned_by", sa.String(length=80), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic", "position"),
    )


def downgrade() -> None:
    op.drop_table("menu_pins")
