"""The supervision portal: server-rendered pages (Jinja2), one home per role, on the filing API's app.

`app.install(app, home, store, limits)` adds the pages to the FastAPI app made by `pipelines.portal.api`.

- Sign-in (`/login`) with a password; a signed session cookie (sessions.py); CSRF token on every form;
  sign-in throttling from the user store. Every other page needs a session: without one it answers 303 to
  /login. A role reaches only its own pages (403 otherwise).
- Pages read only the published snapshots through `connect_reader`: the analyst (pseudonymised) file for
  analysts and filers, the auditor file for auditors and regulators. They never open the live warehouse,
  so a running cycle blocks no one.
- A filer sees only its own enterprise: every submission fetched by id is checked against the user's
  enterprise (another enterprise's id answers 404 like an unknown one).
- Every sign-in (and failed or throttled attempt), upload, download and SQL query is recorded in the
  hash-chained access log.
- Charts are Vega-Lite specs (pipelines/reports/charts.py, shared with the static period reports) rendered by
  vega-embed, served from the npm packages the project's setup installs (`make setup-web`), never from a
  CDN; the page script is a static file (CSP: no inline script).

The modules: app.py (`install`: the wiring), common.py (constants, query helpers, and `Web`: render, require, snapshot, CSRF, access log),
assets.py (static files and the vendored chart scripts), auth.py (sign-in, sign-out), then one module of
pages per role: filer.py, analyst.py, auditor.py, regulator.py. See docs/portal.md.
"""
