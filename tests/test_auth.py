"""The login configuration fails closed: a login source that exists but cannot be read never opens the app."""

from __future__ import annotations

import pytest
from streamlit import config as st_config

from ui import auth

GOOD = """
[studio_auth.credentials.usernames.ana]
name = "Ana"
email = "ana@example.com"
password = "$2b$12$abcdefghijklmnopqrstuv0123456789abcdefghijklmnopqrstu"

[studio_auth.cookie]
name = "studio"
key = "a-long-random-signing-key"
expiry_days = 1
"""


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.ENV_VAR, raising=False)
    path = tmp_path / "secrets.toml"
    before = st_config.get_option("secrets.files")
    st_config.set_option("secrets.files", [str(path)])
    yield path
    st_config.set_option("secrets.files", before)


def test_no_secrets_file_means_no_login(secrets_file):
    assert auth.settings() is None


def test_a_secrets_file_without_the_table_means_no_login(secrets_file):
    secrets_file.write_text('api_key = "x"\n')
    assert auth.settings() is None


def test_a_well_formed_table_is_the_login(secrets_file):
    secrets_file.write_text(GOOD)
    assert set(auth.settings()["credentials"]["usernames"]) == {"ana"}


@pytest.mark.parametrize(
    "text",
    [
        GOOD + 'broken = "unterminated\n',  # the typo of the report: one unterminated string
        GOOD.replace("[studio_auth.cookie]", "[studio_auth.cookie"),
        "studio_auth = 3\n",
    ],
)
def test_a_broken_secrets_file_stops_the_app_naming_the_file(secrets_file, text):
    secrets_file.write_text(text)
    with pytest.raises(auth.AuthConfigError) as info:
        auth.settings()
    assert str(secrets_file) in str(info.value)
    assert "\n" not in str(info.value)
    assert auth.data_roots() == []  # and no server folder may be imported from


def test_an_unreadable_secrets_file_stops_the_app(secrets_file):
    secrets_file.write_bytes(b"\xff\xfe[studio_auth]\n")
    with pytest.raises(auth.AuthConfigError, match="cannot be read"):
        auth.settings()


def test_a_users_file_that_is_not_a_mapping_is_refused(tmp_path, monkeypatch):
    users = tmp_path / "users.yaml"
    users.write_text("just a string\n")
    monkeypatch.setenv(auth.ENV_VAR, str(users))
    with pytest.raises(auth.AuthConfigError, match="mapping"):
        auth.settings()


@pytest.mark.parametrize(("address", "allowed", "served"), [
    ("127.0.0.1", None, True),  # the default: this machine only, no login needed
    ("0.0.0.0", None, False),  # on the network without a login: refused
    ("", None, False),  # every interface (Streamlit's own default)
    ("0.0.0.0", "1", True),  # explicitly allowed (a loopback-only port mapping, an authenticating proxy)
])  # fmt: skip
def test_the_app_serves_the_network_only_with_a_login(secrets_file, monkeypatch, tmp_path, address, allowed, served):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "ws"))
    if allowed:
        monkeypatch.setenv(auth.OPEN_ENV, allowed)
    else:
        monkeypatch.delenv(auth.OPEN_ENV, raising=False)
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", address)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    finally:
        st_config.set_option("server.address", before)
    assert not at.exception
    refused = [e.value for e in at.error if "without a login" in e.value]
    assert bool(refused) != served
    assert bool(at.title) == served  # no page at all when refused
