"""Demo users for `make demo`: one per role, generated credentials in `<home>/demo-credentials.json` (0600).

    python -m pipelines.portal.demo --home var/demo

The file is `{"<role>": {"username", "password", "token", "enterprise_id"}}` (enterprise_id only for the
filer, bound to the enterprise of the published snapshot with the most findings, so its edit reports have
something to show). Only for a demo home: real users are added one by one with `suptech users add`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pipelines.home import Home
from pipelines.portal.users import ROLES, UserError, UserStore

CREDENTIALS_FILE = "demo-credentials.json"


def pick_enterprise(home: Home) -> str:
    """The demo filer's enterprise: most findings first, then most submissions, then the smallest id."""
    from pipelines.warehouse.db import connect_reader

    con = connect_reader(home, "analyst")
    try:
        row = con.execute(
            """select s.enterprise_id from intake.submissions s
               left join (select submission_id, count(*) as n from quality.findings group by 1) f using (submission_id)
               group by 1 order by coalesce(sum(f.n), 0) desc, count(*) desc, 1 limit 1"""
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise UserError(
            "the snapshot has no submission yet: run a cycle (`make demo` does) before adding demo users"
        )
    return row[0]


def create(home: Home, port: int = 8000) -> tuple[Path, dict[str, dict[str, str | None]]]:
    store = UserStore(home)
    enterprise = pick_enterprise(home)
    creds: dict[str, dict[str, str | None]] = {}
    for role in ROLES:
        username = f"demo-{role}"
        if store.get(username) is not None:
            raise UserError(f"{username} exists already in {home.root}: the demo users were created before")
        made = store.add(username, role, enterprise if role == "filer" else None)
        creds[role] = {"username": username, "password": made.password, "token": made.token}
        if role == "filer":
            creds[role]["enterprise_id"] = enterprise
    path = home.root / CREDENTIALS_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(creds, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path, creds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=None, help="the demo home (default $SUPTECH_HOME)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SUPTECH_PORT", "8000")))
    args = parser.parse_args(argv)
    home = Home.resolve(args.home)
    try:
        path, creds = create(home, args.port)
    except (UserError, FileNotFoundError) as exc:
        print(f"demo users: {exc}", file=sys.stderr)
        return 1
    print(f"Portal: run `make serve`, then open http://127.0.0.1:{args.port}/login")
    print(f"Demo credentials (one user per role, mode 0600): {path}")
    for role, c in creds.items():
        extra = f" (enterprise {c['enterprise_id']})" if c.get("enterprise_id") else ""
        print(f"  {role:<9} {c['username']}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
