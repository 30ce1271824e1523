"""Scale benchmarks (issue 9): a generator of clearly synthetic data (``synthetic``), the
Excel pieces shared with ``bench_excel`` (``excel``), timing helpers (``measure``) and the
operations ``manage.py bench`` runs next to their raw baselines (``operations``)."""
