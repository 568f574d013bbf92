"""Content Credentials: a signed C2PA manifest in episode.mp4, and clear errors."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from render_helpers import make_manifest

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.render.credentials import C2PA_ASSERTION, content_signer, read_credentials
from writers_room.render.pipeline import RenderOptions, render_manifest
from writers_room.render.provenance import sha256_file


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Harbor Studio"),
        ]
    )


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: str,
    public_key: ec.EllipticCurvePublicKey,
    *,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> x509.Certificate:
    """A certificate valid from yesterday for 30 days."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def make_identity(folder: Path) -> tuple[Path, Path]:
    """A studio root CA and a C2PA signing certificate it issued, as PEM files."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(
        "Harbor Studio Root",
        root_key.public_key(),
        issuer="Harbor Studio Root",
        issuer_key=root_key,
        extensions=(
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (_usage(signer=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False),
        ),
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(
        "Harbor Studio Renders",
        key.public_key(),
        issuer="Harbor Studio Root",
        issuer_key=root_key,
        extensions=(
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_usage(signer=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False),
        ),
    )
    cert = folder / "signer-chain.pem"
    pem = serialization.Encoding.PEM
    cert.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    private = folder / "signer.key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_identity(tmp_path_factory.mktemp("c2pa"))


def test_a_signed_episode_says_what_made_it(identity: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = identity
    settings = Settings(home=tmp_path / "home", c2pa_cert=str(cert), c2pa_key=str(key))
    result = render_manifest(
        settings,
        make_manifest(2, duration_s=1.0),
        tmp_path / "renders" / "r-signed",
        preview=True,
        options=RenderOptions(crossfade_s=0),
        provenance={"proposal_id": "p-1", "approval": {"by": "U0SHOWRUN1"}},
    )
    store = read_credentials(result.episode_path)
    assert store is not None
    active = store["manifests"][store["active_manifest"]]
    assertions = {a["label"]: a["data"] for a in active["assertions"]}
    (created,) = next(v for k, v in assertions.items() if k.startswith("c2pa.actions"))["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/algorithmicMedia")  # storyboard frames
    room = assertions[C2PA_ASSERTION]
    assert room["render_id"] == "r-signed" and room["proposal_id"] == "p-1"
    assert room["brief_version"] == 1 and room["renderer"]["name"] == "storyboard"
    assert active["signature_info"]["common_name"] == "Harbor Studio Renders"
    # Signature and hashes check out; only the studio's root is unknown to the verifier.
    codes = {s["code"] for s in store.get("validation_status", [])}
    assert codes <= {"signingCredential.untrusted"}
    success = {s["code"] for s in store["validation_results"]["activeManifest"]["success"]}
    assert {"claimSignature.validated", "assertion.bmffHash.match"} <= success

    provenance = json.loads(result.provenance_path.read_text("utf-8"))
    assert provenance["content_credentials"] == {
        "signed": True,
        "manifest": store["active_manifest"],
        "alg": "es256",
        "signer": "Harbor Studio Renders",
    }
    assert provenance["outputs"]["episode.mp4"] == sha256_file(result.episode_path)


def test_without_a_signing_identity_the_episode_has_no_manifest(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    result = render_manifest(
        settings, make_manifest(1, duration_s=1.0), tmp_path / "r", preview=True
    )
    assert read_credentials(result.episode_path) is None
    provenance = json.loads(result.provenance_path.read_text("utf-8"))
    assert provenance["content_credentials"]["signed"] is False


def test_half_a_signing_identity_is_refused_before_anything_is_written(
    identity: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, _key = identity
    settings = Settings(home=tmp_path / "home", c2pa_cert=str(cert))
    out = tmp_path / "renders" / "r"
    with pytest.raises(InputError, match="WRITERS_ROOM_C2PA_KEY is not set"):
        render_manifest(settings, make_manifest(1), out, preview=True)
    assert not out.parent.exists()


def test_a_key_of_another_certificate_is_named(identity: tuple[Path, Path], tmp_path: Path) -> None:
    cert, _ = identity
    _, other_key = make_identity(tmp_path)
    with pytest.raises(InputError, match="is not the key of the first certificate") as caught:
        content_signer(Settings(home=tmp_path, c2pa_cert=str(cert), c2pa_key=str(other_key)))
    assert caught.value.field == "WRITERS_ROOM_C2PA_KEY"
    with pytest.raises(InputError, match="holds no PEM certificate"):
        content_signer(Settings(home=tmp_path, c2pa_cert=str(other_key), c2pa_key=str(other_key)))
    # A certificate that signs for itself is refused by the SDK: found before a render.
    self_signed = tmp_path / "self.pem"
    key = serialization.load_pem_private_key(other_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    alone = _certificate("Alone", key.public_key(), issuer="Alone", issuer_key=key)
    self_signed.write_bytes(alone.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(InputError, match="will not sign") as refused:
        content_signer(Settings(home=tmp_path, c2pa_cert=str(self_signed), c2pa_key=str(other_key)))
    assert refused.value.field == "WRITERS_ROOM_C2PA_CERT"
    with pytest.raises(InputError, match="cannot read"):
        content_signer(Settings(home=tmp_path, c2pa_cert="/nope.pem", c2pa_key=str(other_key)))
