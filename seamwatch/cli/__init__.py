"""The command line: ``seamwatch`` and its command groups (typer + rich).

``app`` (the application) is in :mod:`seamwatch.cli.app`; ``python -m seamwatch.cli`` runs it.
"""
