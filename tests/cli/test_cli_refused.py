"""`pa-advisor hook` refused with a 401 names the likely reason, not always --sign-key (issue #24): no signature,
a signature the service does not accept (aud / trust file), a replay store that is down."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from loopback import serve_app

from cdshooks.cli import ehr_cli
from cdshooks.cli.sandbox import free_port
from cdshooks.ehr.profiles import public_jwk
from cdshooks.settings import Settings
from cdshooks.web.app import create_app

ISS = "https://cli.example"


@pytest.fixture
def keyfile(tmp_path):
    import base64

    key = ec.generate_private_key(ec.SECP384R1())
    d = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(48, "big")).rstrip(b"=").decode()
    (tmp_path / "key.jwk").write_text(json.dumps({**public_jwk(key.public_key(), "k1", "ES384"), "d": d}))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [public_jwk(key.public_key(), "k1", "ES384")]}))
    (tmp_path / "trust.yaml").write_text(f"- iss: {ISS}\n  jwks_file: jwks.json\n")
    return tmp_path


def refused(app, signer, capsys) -> str:
    with serve_app(app) as base:
        code = ehr_cli.run_hook("order-sign", "p1", "J1323", "http://127.0.0.1:9/fhir", None, base, False, None,
                                False, date(2026, 11, 20), signer)
    assert code == 1
    return " ".join(capsys.readouterr().out.split())


def trust_app(tmp_path, **kw):
    return create_app(Settings(trust_file=str(tmp_path / "trust.yaml"), public_url="https://pa.example.org",
                               store_url=f"sqlite:///{tmp_path / 's.db'}", **kw))


def test_an_unsigned_call_is_told_to_sign(keyfile, capsys):
    assert "sign with --sign-key" in refused(trust_app(keyfile), None, capsys)


def test_a_signed_call_with_the_wrong_audience_is_told_about_public_url(keyfile, capsys):
    signer = ehr_cli.Signer.from_file(str(keyfile / "key.jwk"), ISS, None, "https://wrong.example")
    text = refused(trust_app(keyfile), signer, capsys)
    assert "PA_PUBLIC_URL" in text and "--sign-key" not in text


def test_a_replay_store_that_is_down_is_named(keyfile, capsys):
    app = trust_app(keyfile, replay_store=f"redis://127.0.0.1:{free_port()}/0")
    signer = ehr_cli.Signer.from_file(str(keyfile / "key.jwk"), ISS, None, "https://pa.example.org")
    assert "replay store" in refused(app, signer, capsys)
