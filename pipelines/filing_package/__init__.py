"""The submission package format of spec/filings.md, shared by everything that writes packages — the
synthetic generator (pipelines.synth) and the real-data mappings (pipelines.mappings) — and by the checks
that read them:

- `formats`: contract-shaped frames rendered to the CSV text of "Value formats", and manifest control totals;
- `writer`: one package's files and manifest.json (sha256, row counts, control totals), manifest last;
- `identity`: a party's id_hash;
- `uscc`: Unified Social Credit Codes (check character, validity, making valid codes).

This package imports nothing of the generator or the mappings; keep this file free of imports.
"""
