"""Response actions a rule may name (``respond:``): dry-run by default, live only when asked.

Plain modules, no Flink: :mod:`.actions` (the model, validated at rule load), :mod:`.webhook`
(signed POST of the alert), :mod:`.okta` and :mod:`.aws` (account containment), :mod:`.runner`
(runs a rule's actions for an alert, bounded in time, one result record per action). See
``docs/response.md``.
"""
