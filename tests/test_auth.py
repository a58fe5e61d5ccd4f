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
