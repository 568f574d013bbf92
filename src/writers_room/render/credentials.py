"""Content Credentials (C2PA) in the episode MP4: a signed statement of what made it.

With ``WRITERS_ROOM_C2PA_CERT`` (a PEM certificate chain, the signing certificate first)
and ``WRITERS_ROOM_C2PA_KEY`` (its PEM private key) set, every render embeds a C2PA
manifest in ``episode.mp4``, signed with the c2pa-python SDK (the Content Authenticity
Initiative's reference implementation). The manifest says the episode was created
(``c2pa.created``) by this room from AI output — IPTC digital source type
``trainedAlgorithmicMedia`` for diffusion keyframes, ``algorithmicMedia`` for storyboard
frames — and names the render, the brief version and the approval it implements, next to
``provenance.json``. Platforms and verifiers (e.g. ``c2patool``, contentcredentials.org)
read it; they call the signer trusted only when its certificate chains to a root they
trust, which is the studio's business, not the room's.

Unset, renders carry the synthetic-content MP4 tags only. The HLS segments are not
signed (C2PA for fragmented MP4 needs every segment hashed into the manifest; not built).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writers_room.errors import InputError

if TYPE_CHECKING:
    from writers_room.config import Settings

__all__ = [
    "C2PA_ASSERTION",
    "ContentSigner",
    "content_credentials",
    "content_signer",
    "episode_manifest",
    "read_credentials",
]

C2PA_ASSERTION = "org.writers-room.render"
"""Label of the room's own assertion (render id, brief version, approval)."""

SOURCE_TYPES = {
    "diffusion": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "storyboard": "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
}
_CERT_ENV = "WRITERS_ROOM_C2PA_CERT"
_KEY_ENV = "WRITERS_ROOM_C2PA_KEY"


@dataclass(frozen=True)
class ContentSigner:
    """A C2PA signing identity: certificate chain, private key, algorithm, who it is."""

    cert_pem: bytes
    key_pem: bytes
    alg: str
    subject: str

    def _sdk_signer(self) -> Any:
        import c2pa

        info = c2pa.C2paSignerInfo(
            alg=self.alg.encode(), sign_cert=self.cert_pem, private_key=self.key_pem, ta_url=None
        )
        return c2pa.Signer.from_info(info)

    def sign(self, path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
        """Embed ``manifest``, signed, in the MP4 at ``path`` (replaced in one rename).

        Returns:
            What ``provenance.json`` records: the manifest label, algorithm and signer.
        """
        import c2pa

        signed = path.with_name(f".{path.name}.c2pa")
        try:
            with self._sdk_signer() as signer, c2pa.Builder(manifest) as builder:
                builder.sign_file(path, signed, signer)
            os.replace(signed, path)
        finally:
            signed.unlink(missing_ok=True)
        store = read_credentials(path)
        label = store.get("active_manifest") if store else None
        return {"signed": True, "manifest": label, "alg": self.alg, "signer": self.subject}

    def probe(self, cert_path: str) -> None:
        """Sign a 1-pixel PNG in memory, so a certificate the SDK refuses fails now, not
        after a render (the SDK checks the certificate profile C2PA asks for).

        Raises:
            InputError: the SDK would not sign with this certificate, saying why.
        """
        import c2pa
        from PIL import Image

        source, dest = io.BytesIO(), io.BytesIO()
        Image.new("RGB", (1, 1)).save(source, format="PNG")
        source.seek(0)
        probe = episode_manifest(title="probe.png", renderer="storyboard", facts={})
        try:
            with self._sdk_signer() as signer, c2pa.Builder(probe) as builder:
                builder.sign(signer, "image/png", source, dest)
        except c2pa.C2paError as exc:
            raise InputError(
                f"{_CERT_ENV}: the C2PA SDK will not sign with {cert_path} ({exc}); it needs "
                "an end-entity certificate with the digitalSignature key usage, issued by a "
                "CA whose certificate follows it in the file (not a self-signed one)",
                field=_CERT_ENV,
                value=cert_path,
            ) from exc


def content_credentials(
    signer: ContentSigner | None,
    path: Path,
    *,
    title: str,
    renderer: str,
    facts: dict[str, Any],
) -> dict[str, Any]:
    """Sign the episode MP4 at ``path`` when a signer is configured.

    Returns:
        What ``provenance.json`` records under ``content_credentials``.
    """
    if signer is None:
        return {"signed": False, "why": f"{_CERT_ENV} and {_KEY_ENV} are not set"}
    return signer.sign(path, episode_manifest(title=title, renderer=renderer, facts=facts))


def _read(name: str, value: str) -> bytes:
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{name}: cannot read {path} ({exc.strerror or exc})", field=name, value=value
        ) from exc


def content_signer(settings: Settings) -> ContentSigner | None:
    """The signer the settings name, or ``None`` when C2PA signing is not configured.

    Raises:
        InputError: only one of the two settings is set, a file cannot be read or parsed,
            the key does not belong to the certificate, or the key type cannot sign C2PA.
    """
    cert_path, key_path = settings.c2pa_cert, settings.c2pa_key
    if not cert_path and not key_path:
        return None
    if not cert_path or not key_path:
        missing = _CERT_ENV if not cert_path else _KEY_ENV
        raise InputError(
            f"{missing} is not set: C2PA signing needs both {_CERT_ENV} (PEM certificate "
            f"chain) and {_KEY_ENV} (its PEM private key); unset both to render without",
            field=missing,
        )
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import NameOID

    cert_pem, key_pem = _read(_CERT_ENV, cert_path), _read(_KEY_ENV, key_path)
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise InputError(
            f"{_CERT_ENV}: {cert_path} holds no PEM certificate ({exc})",
            field=_CERT_ENV,
            value=cert_path,
        ) from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{_KEY_ENV}: {key_path} is not an unencrypted PEM private key ({exc})",
            field=_KEY_ENV,
            value=key_path,
        ) from exc
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != chain[0].public_key().public_bytes(
        der, public
    ):
        raise InputError(
            f"{_KEY_ENV} ({key_path}) is not the key of the first certificate in "
            f"{_CERT_ENV} ({cert_path}); the signing certificate must come first",
            field=_KEY_ENV,
            value=key_path,
        )
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in {
        "secp256r1",
        "secp384r1",
        "secp521r1",
    }:
        alg = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}[key.curve.name]
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        alg = "ed25519"
    elif isinstance(key, rsa.RSAPrivateKey):
        alg = "ps256"
    else:
        raise InputError(
            f"{_KEY_ENV}: a {type(key).__name__} cannot sign C2PA; use an EC P-256/384/521, "
            "Ed25519 or RSA key",
            field=_KEY_ENV,
            value=key_path,
        )
    names = chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = str(names[0].value) if names else chain[0].subject.rfc4514_string()
    # The SDK reads PKCS#8; keys in the older SEC1/PKCS#1 files are converted here.
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = ContentSigner(cert_pem=cert_pem, key_pem=pkcs8, alg=alg, subject=subject)
    signer.probe(cert_path)
    return signer


def episode_manifest(*, title: str, renderer: str, facts: dict[str, Any]) -> dict[str, Any]:
    """The C2PA manifest of one episode: created by the room from AI output, and what.

    Args:
        title: The asset's title, e.g. ``harbor-hearts ep03 v2``.
        renderer: ``diffusion`` or ``storyboard`` (picks the digital source type).
        facts: The room's own assertion (render id, brief version, approval, models).
    """
    from writers_room import __version__ as version

    source = SOURCE_TYPES.get(renderer, SOURCE_TYPES["diffusion"])
    return {
        "claim_generator_info": [{"name": "writers-room", "version": version}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": source,
                            "softwareAgent": {"name": "writers-room", "version": version},
                        }
                    ]
                },
            },
            {"label": C2PA_ASSERTION, "data": json.loads(json.dumps(facts, default=str))},
        ],
    }


def read_credentials(path: Path) -> dict[str, Any] | None:
    """The C2PA manifest store of ``path`` as a dict, or ``None`` when it has none."""
    import c2pa

    try:
        with c2pa.Reader(str(path)) as reader:
            return dict(json.loads(reader.json()))
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__:
            return None
        raise
