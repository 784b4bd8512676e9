"""The ``seamwatch`` command (and ``python -m seamwatch``).

It checks the interpreter before importing anything else: PyFlink 2.2 and the pinned
dependencies run on Python 3.11 only, and on any other version the user gets one line saying
so rather than a traceback from deep inside an import. Keep this module free of imports beyond
the standard library's ``sys`` (and of syntax newer than Python 3.6), so that the check runs.
"""

import sys

REQUIRED = (3, 11)


def main() -> None:
    """Run the command line, or exit 2 with one line if this is not Python 3.11."""
    if tuple(sys.version_info[:2]) != REQUIRED:
        found = ".".join(str(part) for part in sys.version_info[:3])
        sys.stderr.write(
            "error: seamwatch needs Python 3.11 (PyFlink 2.2 runs on it); "
            f"{sys.executable} is Python {found}\n"
        )
        raise SystemExit(2)
    # Deferred: the whole CLI is imported only once the version check above has passed.
    from seamwatch.cli.app import app

    app()


if __name__ == "__main__":
    main()
