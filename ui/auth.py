"""Login for shared deployments (streamlit-authenticator), off by default for one user on localhost.

Turn it on with ``STUDIO_AUTH=/path/to/users.yaml`` (or a ``[studio_auth]`` table in
``.streamlit/secrets.toml`` with the same keys)::

    credentials:
      usernames:
        ana:
          name: Ana
          email: ana@example.com
          password: $2b$12$...        # bcrypt hash: python -m ui.auth hash 'the password'
    cookie:
      name: edge_model_studio
      key: a long random secret     # signs the session cookie
      expiry_days: 1                # sessions expire after this long

Passwords are only ever compared as bcrypt hashes; a plain-text password in the file is refused.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import streamlit as st
import yaml

ENV_VAR = "STUDIO_AUTH"
SECRETS_KEY = "studio_auth"


class AuthConfigError(Exception):
    """The login configuration is present but unusable (said in one line on the page)."""


def settings() -> dict | None:
    """The login configuration, or None when the app is open (no STUDIO_AUTH, no secrets table)."""
    path = os.environ.get(ENV_VAR)
    if path:
        try:
            config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            msg = f"{ENV_VAR}={path} cannot be read ({exc}); fix the file or unset {ENV_VAR}"
            raise AuthConfigError(msg) from None
    else:
        config = secrets_table()
    if config is None:
        return None
    return _checked(config)


def secrets_files() -> list[Path]:
    """The secrets files Streamlit reads (``secrets.files``: ~/.streamlit and ./.streamlit by default) that exist."""
    from streamlit import config as st_config

    return [Path(f) for f in st_config.get_option("secrets.files") if Path(f).is_file()]


def secrets_table() -> dict | None:
    """The ``[studio_auth]`` table of the secrets files (a later file wins, as in Streamlit), None when no file
    has one. Fails closed: a secrets file that exists but cannot be read or parsed is an AuthConfigError naming
    it, never "no login" — a typo must not open the app to everyone."""
    table = None
    for path in secrets_files():
        try:
            parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            msg = f"the secrets file {path} cannot be read ({exc}); fix it (the login may be configured there)"
            raise AuthConfigError(msg) from None
        if SECRETS_KEY in parsed:
            table = parsed[SECRETS_KEY]
            if not isinstance(table, dict):
                msg = f"[{SECRETS_KEY}] in {path} must be a table with credentials and cookie keys"
                raise AuthConfigError(msg)
    return table


def _checked(config: object) -> dict:
    if not isinstance(config, dict):
        msg = f"the login configuration ({ENV_VAR}) must be a mapping with credentials and cookie keys"
        raise AuthConfigError(msg)
    users = (config.get("credentials") or {}).get("usernames") or {}
    if not users:
        msg = f"the login configuration ({ENV_VAR}) names no users under credentials.usernames"
        raise AuthConfigError(msg)
    for name, user in users.items():
        if not str(user.get("password", "")).startswith(("$2b$", "$2a$", "$2y$")):
            msg = f"user {name!r} has no bcrypt password hash; make one with `python -m ui.auth hash PASSWORD`"
            raise AuthConfigError(msg)
    cookie = config.get("cookie") or {}
    if len(str(cookie.get("key", ""))) < 16:
        msg = "the login configuration needs cookie.key: a random secret of at least 16 characters"
        raise AuthConfigError(msg)
    return config


def data_roots() -> list[str] | None:
    """The server folders the Data page may import from: None = any (the open single-user default);
    with a login, only those in ``STUDIO_DATA_ROOTS`` (colon-separated; none when unset)."""
    roots = [r for r in os.environ.get("STUDIO_DATA_ROOTS", "").split(os.pathsep) if r]
    if roots:
        return [str(Path(r).resolve()) for r in roots]
    try:
        return None if settings() is None else []
    except AuthConfigError:
        return []


def allowed_path(path: str, roots: list[str] | None) -> bool:
    if roots is None:
        return True
    resolved = Path(path).expanduser().resolve()
    return any(resolved.is_relative_to(root) for root in roots)


OPEN_ENV = "STUDIO_ALLOW_UNAUTHENTICATED"  # "1": listen beyond loopback without a login (e.g. behind a proxy)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def exposed_address() -> str | None:
    """The address the server listens on when it is not loopback-only (``""``: every interface), else None."""
    address = str(st.get_option("server.address") or "")
    if address in LOOPBACK or address.startswith("unix://"):
        return None
    return address or "every interface"


def gate() -> bool:
    """Render the login when one is configured and nobody is logged in; True when the pages may show.
    Without a login the app serves only on loopback: listening on the network needs one (or an explicit
    ``STUDIO_ALLOW_UNAUTHENTICATED=1``, e.g. behind an authenticating proxy or a loopback-only port mapping)."""
    try:
        config = settings()
    except AuthConfigError as exc:
        st.error(str(exc), icon=":material/lock:")
        return False
    if config is None:
        address = exposed_address()
        if address and os.environ.get(OPEN_ENV) != "1":
            st.error(
                f"This dashboard listens on {address} without a login, so anyone on the network could open it:"
                f" configure the login ({ENV_VAR}, see the README's Shared deployments), or serve it on 127.0.0.1"
                f" (the default), or set {OPEN_ENV}=1 if something in front of it already authenticates users.",
                icon=":material/lock:",
            )
            return False
        return True
    import streamlit_authenticator as stauth

    cookie = config.get("cookie", {})
    name = cookie.get("name", "edge_model_studio")
    forged = _bad_cookie(name, cookie["key"])
    if forged:  # streamlit-authenticator would raise on it (e.g. alg "none"): never read it, drop it, ask again
        st.session_state["logout"] = True
    authenticator = stauth.Authenticate(
        config["credentials"], name, cookie["key"], float(cookie.get("expiry_days", 1)), auto_hash=False
    )
    if forged:
        authenticator.cookie_controller.delete_cookie()
    status = st.session_state.get("authentication_status")
    if not status:
        st.title("Edge Model Studio")
        authenticator.login(location="main", max_login_attempts=10)
        status = st.session_state.get("authentication_status")
        if status is False:
            st.error("Wrong username or password.", icon=":material/lock:")
        if not status:
            return False
    with st.sidebar:
        st.caption(f"Signed in as **{st.session_state.get('name') or st.session_state.get('username')}**")
        authenticator.logout("Log out", location="sidebar")
    return True


def _bad_cookie(name: str, key: str) -> bool:
    """The browser sent a session cookie that is not a token signed with this key (HS256): forged, from
    another deployment, or damaged."""
    import jwt

    token = st.context.cookies.get(name)
    if not token:
        return False
    try:
        jwt.decode(token, key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return True
    return False


if __name__ == "__main__":  # python -m ui.auth hash PASSWORD
    if len(sys.argv) != 3 or sys.argv[1] != "hash":
        print("usage: python -m ui.auth hash PASSWORD", file=sys.stderr)
        sys.exit(2)
    import streamlit_authenticator as stauth

    print(stauth.Hasher.hash(sys.argv[2]))
