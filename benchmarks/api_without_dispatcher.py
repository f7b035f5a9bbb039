"""Diagnostic only: `encola serve --no-engine` minus the webhook dispatcher (lifespan off).

Used by `run.py --phases intake_bare` to separate the API's own cost from the cost of the
dispatcher that runs in the same process. Not a supported way to run encola.

    ENCOLA_DATABASE_URL=... python benchmarks/api_without_dispatcher.py PORT
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402

from encola.api.app import create_app  # noqa: E402
from encola.cli import _settings, open_store  # noqa: E402
from encola.runtime import build_services  # noqa: E402

if __name__ == "__main__":
    settings = _settings()
    store = open_store(settings)
    app = create_app(build_services(store, settings, with_engine=False))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=False, log_level="warning", lifespan="off")
