"""The operators' web console, mounted at ``/console`` (docs/console.md).

How to add a page (the actions, the audit log and the AFIP status page are built this way):

1. Write a module ``encola/console/<name>.py`` with ``routes(console)`` and, for the menu, ``NAV =
   [("Etiqueta", "/console/ruta")]``. Add its dotted name to ``PAGE_MODULES`` in ``app.py`` if it is
   not one of those already listed (``pages``, ``actions``, ``afip_status``).
2. In ``routes``, register each endpoint with ``console.route("/ruta", endpoint, methods=("GET",))``.
   Every route registered so is behind login (a GET without a session is sent to the login page;
   anything else gets 401) and every POST/PUT/PATCH/DELETE must carry the session's CSRF token
   (403 otherwise) — the endpoint does not check either.
3. Inside an endpoint: ``current_operator(request)`` (from ``encola.console.sessions``) is the
   operator (``id``, ``email``, ``workspace_ids`` — None for every workspace — ``sees_workspace``);
   ``await console.pdv_ids(request)`` / ``await console.pdvs(request)`` are the points of sale the
   operator sees. Scope every query by them in SQL, and answer ``console.not_found(request)`` (404)
   for an id outside them. Database calls go through ``run_in_threadpool``.
4. Render with ``console.render(request, "template.html", **context)``: templates live in
   ``encola/console/templates``, extend ``base.html`` (menu, operator, logout) and put
   ``{{ csrf_field(request) }}`` in every form. Filters: ``hora`` (UTC → Argentina time),
   ``fecha`` (dd/mm/aaaa). No inline ``<script>`` or ``style=``: the Content-Security-Policy allows
   only the console's own files (``/console/static``). An element with ``data-refresh="<url>"
   data-every="<seconds>"`` is refreshed from that URL by ``static/console.js``.
5. The invoice page includes ``comprobante_acciones.html`` (if it exists) under the invoice's data,
   with ``row``, ``pdv`` and ``request`` in its context: the place for the invoice's action buttons.
"""
