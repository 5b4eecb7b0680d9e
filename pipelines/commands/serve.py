"""`suptech serve`: the filing API and the portal on 127.0.0.1 with uvicorn (docs/filing-api.md, docs/portal.md)."""

from __future__ import annotations

import os

import click

from pipelines.commands.common import home_option
from pipelines.home import Home

HOST = "127.0.0.1"  # never all interfaces: put a TLS reverse proxy in front for other machines


def register(cli: click.Group) -> None:
    @cli.command()
    @home_option
    @click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=None,
        help="TCP port on 127.0.0.1 (default: $SUPTECH_PORT, else 8000).",
    )
    def serve(home_dir, port) -> None:
        """Serve the portal (sign in at /login) and the filing API (docs at /docs) on 127.0.0.1, against the
        home's published snapshots."""
        import uvicorn

        from pipelines.portal.api import create_app

        port = port if port is not None else int(os.environ.get("SUPTECH_PORT", "8000"))
        home = Home.resolve(home_dir)
        click.echo(
            f"portal and filing API for {home.root} on http://{HOST}:{port}/login (API docs: /docs)", err=True
        )
        creds = home.root / "demo-credentials.json"
        if creds.is_file():
            click.echo(f"demo users' credentials: {creds}", err=True)
        uvicorn.run(
            create_app(home),
            host=HOST,
            port=port,
            proxy_headers=False,
            server_header=False,
            access_log=False,  # every API call is recorded in the hash-chained access log instead
            log_level="info",
        )
