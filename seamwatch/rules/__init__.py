"""Detection rules: the model and loader (``rulebook``), the SQL they compile to
(``compiler``), which events they need (``relevance``) and their ATT&CK coverage
(``coverage``, ``coverage_report``).

The YAML rules themselves are data: the repository's ``rules/`` (``seamwatch.bundled``). What
runs Flink for them is in :mod:`seamwatch.jobs`: the planner's check of their SQL
(``jobs.rule_sql``) and their own tests replayed through the real job (``jobs.rule_tests``).
"""
