"""What an analyst does with alerts: read them back, record verdicts, measure rules, report.

Plain functions over the alert records the job writes (``schemas/alert.avsc``); nothing here
starts Flink. The CLI commands around them live in :mod:`seamwatch.cli.analyst`.
"""
