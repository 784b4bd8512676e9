"""``python -m seamwatch.cli``: the command line, as the ``seamwatch`` script runs it."""

from seamwatch.cli.app import app

if __name__ == "__main__":
    app()
