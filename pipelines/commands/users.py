"""`suptech users add|list|disable|reset-token`: the users of the filing API and portal (docs/operations.md)."""

from __future__ import annotations

import json
import sys

import click

from pipelines.commands.common import err, home_option, out
from pipelines.home import Home


def register(cli: click.Group) -> None:
    from pipelines.portal.users import ROLES

    @cli.group()
    def users() -> None:
        """Manage the users of the filing API and portal (stored in <home>/portal/users.db)."""

    @users.command("add")
    @home_option
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may see and do.")
    @click.option(
        "--enterprise", "enterprise_id", default=None, help="A filer's enterprise id (e.g. PAY0007)."
    )
    @click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from standard input (else one is generated).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
    def add(home_dir, username, role, enterprise_id, password_stdin, as_json) -> None:
        """Add a user; prints its API token (and generated password) ONCE: hand them over securely.

        Example: suptech users add pay7-system --role filer --enterprise PAY0007
        """
        from pipelines.portal.users import UserError, UserStore

        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        try:
            creds = UserStore(Home.resolve(home_dir)).add(username, role, enterprise_id, password)
        except UserError as exc:
            err.print(f"[red]{exc}")
            sys.exit(1)
        if as_json:
            click.echo(json.dumps({**creds.user.as_dict(), "password": creds.password, "token": creds.token}))
            return
        click.echo(f"added {username} ({role}{' of ' + enterprise_id if enterprise_id else ''})")
        if creds.password is not None:
            click.echo(f"password: {creds.password}")
        click.echo(f"token: {creds.token}")
        click.echo("These are shown once and stored only as hashes: hand them over securely now.")

    @users.command("list")
    @home_option
    @click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
    def list_users(home_dir, as_json) -> None:
        """List the users with role, enterprise and whether they are disabled (never secrets)."""
        from pipelines.portal.users import UserStore

        found = UserStore(Home.resolve(home_dir)).list()
        if as_json:
            click.echo(json.dumps([u.as_dict() for u in found], indent=2))
            return
        from rich.table import Table

        table = Table("username", "role", "enterprise", "disabled", "created_at")
        for u in found:
            table.add_row(
                u.username, u.role, u.enterprise_id or "", "yes" if u.disabled else "", u.created_at
            )
        out.print(table)

    @users.command("disable")
    @home_option
    @click.argument("username")
    def disable(home_dir, username) -> None:
        """Disable a user: its password and tokens stop working at once (the record is kept)."""
        from pipelines.portal.users import UserError, UserStore

        try:
            UserStore(Home.resolve(home_dir)).disable(username)
        except UserError as exc:
            err.print(f"[red]{exc}")
            sys.exit(1)
        click.echo(f"disabled {username}")

    @users.command("reset-token")
    @home_option
    @click.argument("username")
    def reset_token(home_dir, username) -> None:
        """Revoke every API token of a user and print a new one (shown once)."""
        from pipelines.portal.users import UserError, UserStore

        try:
            token = UserStore(Home.resolve(home_dir)).reset_token(username)
        except UserError as exc:
            err.print(f"[red]{exc}")
            sys.exit(1)
        click.echo(f"token: {token}")
        click.echo("The earlier tokens of this user no longer work. This one is shown once.")
