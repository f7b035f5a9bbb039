"""Opening a database with its secret key: check the key, seal what was stored in clear.

Run by every command that opens the database (after the migrations): a process started with a
key other than the one the database was written with stops here, before it writes anything.
"""

from __future__ import annotations

from sqlalchemy import insert, or_, select, update

from encola.domain.credentials import generate_webhook_secret
from encola.secretbox import PREFIX, SecretKeyError, is_sealed
from encola.store.schema import cuits, meta, pdvs

KEY_CHECK = "secret_key_check"


def prepare(store) -> None:
    """Check the store's key against the database; seal clear secrets; give every point of sale a
    webhook signing secret. Idempotent, and safe when several processes start together."""
    box = store.secrets
    with store.writing() as connection:
        check = connection.execute(select(meta.c.value).where(meta.c.name == KEY_CHECK)).scalar()
        if check is None:
            connection.execute(insert(meta).values(name=KEY_CHECK, value=box.check_value()))
        elif not box.matches(check):
            raise SecretKeyError(
                "ENCOLA_SECRET_KEY (or the key file) is not the key this database was written with: "
                "its AFIP keys and webhook secrets could not be read"
            )
        clear_keys = select(cuits.c.cuit, cuits.c.key_pem).where(cuits.c.key_pem.not_like(PREFIX + "%"))
        for row in connection.execute(clear_keys).all():
            if not is_sealed(row.key_pem):
                connection.execute(update(cuits).where(cuits.c.cuit == row.cuit).values(key_pem=box.seal(row.key_pem)))
        unsealed = select(pdvs.c.id, pdvs.c.webhook_token, pdvs.c.webhook_secret).where(
            or_(pdvs.c.webhook_token.not_like(PREFIX + "%"), pdvs.c.webhook_secret.is_(None))
        )
        for row in connection.execute(unsealed).all():
            values = {}
            if not is_sealed(row.webhook_token):
                values["webhook_token"] = box.seal(row.webhook_token)
            if row.webhook_secret is None:
                values["webhook_secret"] = box.seal(generate_webhook_secret())
            if values:
                connection.execute(update(pdvs).where(pdvs.c.id == row.id).values(**values))
