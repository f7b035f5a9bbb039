"""The buyer's e-mail (``cliente.envia_por_mail``): one message per emitted invoice, through the outbox.

- ``config``: ``ENCOLA_SMTP_URL`` and ``ENCOLA_MAIL_FROM``, parsed (the password never shown).
- ``recipients``: who gets it, decided at intake (``invoices.mail_to``).
- ``message``: the message, pure (stdlib ``email``): subject, text + HTML, the A4 PDF attached.
- ``sender``: the dispatcher's ``mail`` kind: one attempt = render, build, hand to the SMTP server.

The event is written with the invoice's ``emitido`` (encola/store/lanes.py), delivered by the one
outbox dispatcher (encola/webhooks/dispatcher.py) with its own schedule, recorded like hooks.
See docs/mail.md.
"""
