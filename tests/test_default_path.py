"""The path a user with a real key takes: the default model, ``https://``/``wss://`` trusted through the system
store (here: ``SSL_CERT_FILE`` naming a CA of the test's, never ``--ca-file``), no test-only flag."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rholive.emulator import Emulator, EmulatorOptions
from rholive.live import models

KEY = "test-key-5cf1d0a9"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def make_ca_and_server_cert(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA (ca.pem) and a certificate for localhost/127.0.0.1 that it signed (server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("rholive test CA"))
        .issuer_name(_name("rholive test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_pem)
    return ca_pem, cert_pem, key_pem


async def rholive(*args: str, env: dict[str, str], stdin: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rholive",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def user_env(tmp_path: Path, ca_pem: Path | None) -> dict[str, str]:
    """A user's environment: the key exported, the system trust store (SSL_CERT_FILE), no rholive config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHOLIVE_") and k != "SSL_CERT_DIR"}
    env.pop("SSL_CERT_FILE", None)
    env |= {"GEMINI_API_KEY": KEY, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    if ca_pem is not None:
        env["SSL_CERT_FILE"] = str(ca_pem)
    return env


@pytest.fixture
async def stand_in(tmp_path: Path):
    """The emulator over TLS with a certificate that only the test's CA vouches for; it wants the key."""
    ca_pem, cert_pem, key_pem = make_ca_and_server_cert(tmp_path)
    options = EmulatorOptions(tls=True, cert_file=str(cert_pem), key_file=str(key_pem), api_keys=[KEY])
    async with Emulator(options) as emulator:
        yield emulator, ca_pem


async def test_chat_with_a_key_reaches_https_with_the_system_trust_store_and_default_settings(
    stand_in: tuple[Emulator, Path], tmp_path: Path
) -> None:
    emulator, ca_pem = stand_in
    base_url = f"https://localhost:{emulator.port}"
    code, out, err = await rholive(
        "chat", "--base-url", base_url, env=user_env(tmp_path, ca_pem), stdin="hello\n"
    )
    assert code == 0, err
    assert '"hello"' in out  # the spoken answer's transcript, printed as the answer
    assert KEY not in out + err
    assert emulator.conversations[0].turns[0].text == "hello"


async def test_without_the_ca_in_the_trust_store_the_certificate_is_refused(
    stand_in: tuple[Emulator, Path], tmp_path: Path
) -> None:
    """The same command without SSL_CERT_FILE: verification is on (no silent insecure fallback)."""
    emulator, _ = stand_in
    base_url = f"https://localhost:{emulator.port}"
    code, _out, err = await rholive(
        "chat", "--base-url", base_url, env=user_env(tmp_path, None), stdin="hello\n"
    )
    assert code != 0
    assert "certificate" in err.lower() and err.strip().count("\n") == 0
    assert emulator.conversations == []


async def test_a_shut_down_model_is_one_line_and_a_non_zero_exit(
    stand_in: tuple[Emulator, Path], tmp_path: Path
) -> None:
    emulator, ca_pem = stand_in
    base_url = f"https://localhost:{emulator.port}"
    code, out, err = await rholive(
        "chat",
        "--base-url",
        base_url,
        "--model",
        "models/gemini-live-2.5-flash-preview",
        env=user_env(tmp_path, ca_pem),
        stdin="hello\n",
    )
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0, err
    assert "gemini-live-2.5-flash-preview" in err and "shut down on 2025-12-09" in err
    assert models.DEFAULT_MODEL in err and "--model" in err
    assert emulator.conversations == []  # refused before connecting: no retry loop
