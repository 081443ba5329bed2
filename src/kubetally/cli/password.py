"""``kubetally hash-password``: the ``password_hash`` of an HTTP API user, for the config file."""

from __future__ import annotations

import typer

from kubetally.api.auth import hash_password
from kubetally.errors import InvalidParameter


def hash_password_command() -> None:
    """Read a password (prompted twice, hidden) and print its scrypt hash.

    Put the printed line in the config file as a user's ``password_hash``:

      users: [{name: alice, password_hash: "scrypt$16384$8$1$...", namespaces: [shop]}]
    """
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if not password:
        raise InvalidParameter("password", "must not be empty")
    typer.echo(hash_password(password))
