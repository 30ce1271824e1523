"""Progress of a long export or import, for whoever runs it in the background.

Every exporter entry point (``exporters.*_workbook``) and the import's commit
(``importers.commit_batch``) take ``progress=None``: a callable called as
``progress(done, total)`` every ``PROGRESS_EVERY`` rows and once at the end (``done ==
total``). The background-job wrapper records it; without one, nothing is counted (a ledger's
``total`` costs a COUNT query, made only when someone asks for progress).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

Progress = Callable[[int, int], object]
PROGRESS_EVERY = 1000


class Reporter:
    """Counts rows and calls ``progress(done, total)`` every ``PROGRESS_EVERY`` of them."""

    __slots__ = ("done", "progress", "total")

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = total
        self.done = 0

    @classmethod
    def counting(cls, progress: Progress | None, rows: QuerySet) -> Reporter:
        """A reporter for a queryset's rows: counted (one query) only when ``progress`` is
        given."""
        return cls(progress, rows.count() if progress is not None else 0)

    def step(self, rows: int = 1) -> None:
        if self.progress is None:
            return
        before = self.done
        self.done += rows
        if self.done // PROGRESS_EVERY != before // PROGRESS_EVERY:
            self.progress(self.done, max(self.total, self.done))

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.done, max(self.total, self.done))
