"""A guardian's language (issue 16, part 2)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08

The family pages (sign-in, My record, and the release requests of part 1) are offered in
English and Spanish. `guardian.language` is the language the family reads, an ISO 639-1
code from the `guardians` import file (optional): the pages default to it when Pathwise has
a catalog for it, else to the browser's language.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guardian") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guardian") as batch:
        batch.drop_column("language")
