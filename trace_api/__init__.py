"""The FastAPI application, its pages, the Celery wiring and the ``lotline`` command line (DESIGN.md §2)."""
