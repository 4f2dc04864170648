"""The FastAPI application, its pages, the Celery worker and the ``lotline`` command line (docs/architecture.md).

One folder per feature (``scans``, ``recalls``, ``consumer``, …) holds its routes, pages, service and schemas;
features never import each other. What several need sits below them in ``web``; the process level (``app``,
``worker``, ``cli``) sits above and wires them together through ``state`` and the task port in ``tasks``.
"""
