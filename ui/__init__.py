"""Shared Streamlit components of the dashboard: filters and context, cached data loaders,
formatting, Altair charts and widgets. Pages import these; the engine (metrics/) never does."""
