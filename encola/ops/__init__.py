"""Operations: health and readiness, Prometheus metrics, structured logs, graceful serving, and
the machine operator's commands (``encola status``, ``encola invoices``, ``encola hooks retry``)."""
