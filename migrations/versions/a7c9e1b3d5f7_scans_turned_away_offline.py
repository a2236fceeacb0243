"""the door log keeps scans turned away offline: a new scan result, "turned_away"

A door phone answering from its own list while offline now sends its refusals too, so that every scan is logged.
When the server would have admitted the badge (the list was older than a registration or an approval), the scan
is logged as "turned_away": nobody came in, and the organisers see it as a conflict. Going back, those lines are
deleted: the older code cannot show them, and no attendance rests on them.

Revision ID: a7c9e1b3d5f7
Revises: c3e5a7b9d1f2
Create Date: 2026-12-06 04:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c9e1b3d5f7"
down_revision = "c3e5a7b9d1f2"
branch_labels = None
depends_on = None

OLD_RESULTS = (
    "ok",
    "already_checked_in",
    "invalid",
    "cancelled",
    "not_a_meeting_day",
    "wrong_session",
    "undone",
    "checked_out",
    "not_approved",
)
NEW_RESULTS = OLD_RESULTS + ("turned_away",)


def _allow_results(batch, values):
    # The column stays VARCHAR(20): only its CHECK changes (as in f3b8d2a6c1e4).
    batch.drop_constraint(op.f("ck_scan_events_scan_result"), type_="check")
    batch.create_check_constraint("scan_result", sa.column("result").in_(values))


def upgrade():
    with op.batch_alter_table("scan_events") as batch:
        _allow_results(batch, NEW_RESULTS)


def downgrade():
    op.execute("DELETE FROM scan_events WHERE result = 'turned_away'")
    with op.batch_alter_table("scan_events") as batch:
        _allow_results(batch, OLD_RESULTS)
