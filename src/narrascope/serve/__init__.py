"""The corpus workspace server: an HTTP API (FastAPI) and the web page, over one store.

>>> from narrascope.serve import create_app
>>> app = create_app("corpus.db")          # run it with uvicorn, or `narrascope serve`
"""

from narrascope.serve.app import DEFAULT_MAX_BODY, create_app
from narrascope.serve.security import is_loopback

__all__ = ["DEFAULT_MAX_BODY", "create_app", "is_loopback"]
