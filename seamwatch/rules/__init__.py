"""Detection rules: the model and loader (``rulebook``), the SQL they compile to
(``compiler``, checked by Flink's planner in ``sql_check``), which events they need
(``relevance``), their own tests run through the real job (``testing``) and their ATT&CK
coverage (``coverage``, ``coverage_report``, ``attack_data``).

The YAML rules themselves are data: the repository's ``rules/`` (``seamwatch.bundled``).
"""
