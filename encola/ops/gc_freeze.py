"""Keep what a process built at start out of the garbage collector's full passes.

A started encola process holds a few hundred thousand objects that live as long as it does:
modules, SQLAlchemy's tables and compiled statements, Jinja's templates, fpdf2's fonts. CPython's
oldest-generation collection walks all of them, and request handling that allocates many
containers (a console page of 50 invoices parsed from JSON) triggers one every second or so.
Measured over a million invoices (`make bench`, console rows): p50 13–17 ms, but p99 130–160 ms
from those pauses; after ``gc.freeze()`` at start the p99 fell to 28–44 ms. Frozen objects are
never collected, so this is done once per process, by its entry point (`encola serve`, `encola
worker`, a render process once it has rehearsed), after start-up and a collection, before serving;
never inside a library call that a test or the demo might run in a longer-lived process.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    gc.collect()
    gc.freeze()
