"""Appeals analytics engine: warehouse access, per-appeal facts, metric catalog, reports.

This package never imports streamlit: the dashboard and the CLI both sit on top of it.
"""

__version__ = "0.1.0"
