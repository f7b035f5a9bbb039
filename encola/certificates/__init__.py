"""Certificates for AFIP's WSAA: the key and CSR a CUIT gives ARCA (``encola cert new``), the
simulator's WSASS, and the certificate checks and expiry warnings (see docs/going-live.md)."""
