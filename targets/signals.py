"""Signals the targets app sends to the layers above it (which it may not import).

``derived_rebuilt``: the roll-ups or reporting tallies were rebuilt from the reports by
maintenance (``rebuild_rollups``, ``rebuild_tally``), not by a change of a row — what the
dashboards show may differ although no reporting trigger fired. Sent inside the rebuild's
transaction with ``using`` (the database alias), so a receiver's writes commit with it
(``reports.page_clock.tick_everything`` makes every cached page's key new)."""

from django.dispatch import Signal

derived_rebuilt = Signal()
