"""``python -m seamwatch.cli``: the command line, as the ``seamwatch`` script runs it."""

from seamwatch.cli.app import app

# Guarded: a process that multiprocessing spawns (staging runs in some) imports the parent's
# main module again, under another name, and must not run the command line a second time.
if __name__ == "__main__":
    app()
