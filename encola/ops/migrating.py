"""``encola migrate`` with a progress bar: one step per migration applied.

Alembic logs "Running upgrade A -> B" on ``alembic.runtime.migration`` before each step; a
handler on that logger advances the bar, so the migration itself runs exactly as every other
command runs it (encola/store/db.py, with its lock on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import logging
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

MIGRATION_LOGGER = "alembic.runtime.migration"


def pending_migrations(database_url: str) -> int | None:
    """How many migrations the database lacks; None when it cannot be told (unreachable, new)."""
    from alembic.script import ScriptDirectory

    from encola.ops.health import database_revision, newest_migration
    from encola.store.db import MIGRATIONS, make_engine

    try:
        engine = make_engine(database_url)
        try:
            current = database_revision(engine)
        finally:
            engine.dispose()
    except Exception:  # no database or no alembic_version yet: every migration is pending
        current = None
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return sum(1 for _ in script.iterate_revisions(newest_migration(), current))


class _Steps(logging.Handler):
    def __init__(self, progress: Progress, task):
        super().__init__(logging.INFO)
        self.progress, self.task = progress, task

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Running upgrade"):
            self.progress.advance(self.task)
            self.progress.update(self.task, description=record.getMessage().replace("Running upgrade ", "migración "))


@contextlib.contextmanager
def progress_bar(total: int | None):
    """Show a bar over ``total`` migrations on a terminal while the body migrates."""
    console = Console(stderr=True)
    show = bool(total) and sys.stderr.isatty()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=not show, transient=False) as progress:
        task = progress.add_task("migrando", total=total or 0)
        logger = logging.getLogger(MIGRATION_LOGGER)
        handler, level, propagate = _Steps(progress, task), logger.level, logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # the bar says it; the log would repeat each step
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
