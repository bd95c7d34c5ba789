"""The serve stage: the prediction API of a bundle and its prediction log.

``create_app(bundle)`` is the FastAPI app factory; ``run`` starts uvicorn (what
``apprentice serve`` does). FastAPI and uvicorn are imported on first use, so importing this
package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apprentice.lazy import lazy_exports

if TYPE_CHECKING:
    from apprentice.serve.app import ServeOptions, create_app
    from apprentice.serve.log import PredictionLog, count_rows, read_log
    from apprentice.serve.run import resolve_model, serve

_LAZY = {
    "PredictionLog": "apprentice.serve.log",
    "ServeOptions": "apprentice.serve.app",
    "count_rows": "apprentice.serve.log",
    "create_app": "apprentice.serve.app",
    "read_log": "apprentice.serve.log",
    "resolve_model": "apprentice.serve.run",
    "serve": "apprentice.serve.run",
}

__all__ = [
    "PredictionLog",
    "ServeOptions",
    "count_rows",
    "create_app",
    "read_log",
    "resolve_model",
    "serve",
]


__getattr__ = lazy_exports(__name__, _LAZY)
