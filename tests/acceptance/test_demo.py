"""`make demo`'s command, run as a user would: it must walk through the docs' invoices to the end."""

from __future__ import annotations

import os
import subprocess

from support import ENCOLA, free_port


def test_the_demo_emits_the_docs_invoices_and_shows_the_rejection(tmp_path):
    env = {**os.environ, "ENCOLA_DEMO_EXIT": "1", "ENCOLA_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [*ENCOLA, "demo", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "demo driver failed" not in out, out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith("demo") and "CAE" in line}
    emitted = [ref for ref, line in lines.items() if "EMITIDO" in line]
    assert len(emitted) == 4, out  # A, B, C and the credit note
    assert any("ENVIADO A PROCESAR - CON ERROR" in line for line in lines.values()), out
    assert any("APROBADO Y EN COLA. SE EMITE EL" in line for line in lines.values()), out
    assert "TFC-8002" in out  # the docs' invalid external_reference, refused at once
    assert (tmp_path / "demo-data" / "encola.db").exists()
    # The buyers' mail: the docs' examples with envia_por_mail "S" (A, C, the credit note), each
    # written by the demo's SMTP sink as an .eml with its PDF attached, and shown with its PDF link.
    mails = sorted((tmp_path / "demo-data" / "mail").glob("*.eml"))
    assert len(mails) == 3, out
    assert all(b"application/pdf" in mail.read_bytes() for mail in mails)
    assert out.count("mail S → a@a.com") == 3 and "/comprobantes/" in out, out
    # The console's login is printed, and it is an operator account of the demo's database.
    console = next(line for line in out.splitlines() if "console:" in line)
    assert "/console/" in console and "operador@demo.example.com" in console and "password " in console, out
