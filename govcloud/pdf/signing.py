"""PAdES signatures of report PDFs by several parties, one after another, with pyHanko.

The flow for a statement signed by, say, vendor → supervisor → bureau:

1. ``prepare_signature_fields(pdf, ["vendor", "supervisor", "bureau"])`` — the rendered PDF is
   rewritten once with one empty signature field per party. The fields exist before the first
   signature, so no later signature has to add a field (which a strict reader counts as a change
   after signing). Where the document marks a party's *seal box* (named destinations
   ``seal-<field>`` and ``seal-<field>-end``: the statement's sign-off table, one per row), the
   field is a visible widget over that box whose appearance reads "待签认"; elsewhere it is
   invisible.
2. ``sign_pdf(pdf, signer=party_signer("org-7").open(secret), field_name=..., ...)`` at each
   sign-off, with the secret the signer typed — appends a PAdES baseline signature
   (``/ETSI.CAdES.detached``) as an *incremental update* filling that party's field, and in the
   same update replaces the field's appearance with the party's **seal**: a red stamp with the
   organisation, the signer and "已签认 <signing time, +0800>", drawn with pyHanko's stamp
   support in the bundled Noto Sans SC (``seal_style``). Earlier revisions stay byte-for-byte
   intact, so earlier signatures remain valid and each one covers exactly the document as it was
   when that party signed; the printed page shows who signed and when.
3. ``verify_pdf(pdf, trust_roots=...)`` — one :class:`SignatureReport` per signature, in signing
   order, judging integrity, trust and what was changed after each signature.

No signature is a certification (DocMDP) signature by default: all are approval signatures, so the
order of the parties stays a platform rule. ``sign_pdf(..., certify=True)`` for the *first*
signature makes it a certification signature with DocMDP permission level 2 (``FILL_FORMS``: form
filling and further signatures allowed, nothing else), which PDF readers then enforce as well. In
both cases :func:`verify_pdf` refuses any signature after which anything beyond form filling and
signing changed.

The signing time is the ``/M`` entry of the signature dictionary, taken from the clock when signing
(PAdES forbids the CMS signing-time attribute; there is no timestamp authority on the government
network). It is the signer's claim, not a trusted timestamp.

Keys are under each party's control (see README, "签名密钥 / Signing keys"): a party's key is
usable only with a secret its signer supplies at the moment of signing, never stored. The seam is
:class:`PartySigner` — ``party_signer("org-7").open(secret)`` gives a pyHanko ``Signer`` in
memory for one signature:

* :class:`Pkcs12PartySigner` (implemented): ``settings.SIGNING_DIR/<key>.p12``, encrypted with
  that party's *own* passphrase, typed by its signer at sign-off. There is no server-wide
  passphrase: the server cannot open a party's key on its own.
* a PKCS#11 token (pyHanko ``pyhanko.sign.pkcs11.PKCS11Signer``: ``open(pin)`` opens a session
  on the party's token with the PIN typed at sign-off) or a remote signing call to the party's
  own service (``open(secret)`` returns a ``Signer`` whose ``async_sign_raw`` posts the digest
  with the secret) are new classes implementing :class:`PartySigner`, selected with
  ``settings.SIGNING_PARTY_SIGNER`` (dotted path of a callable ``key -> PartySigner``).

Opening a key pays the PKCS#12 key derivation at every sign-off (tens of milliseconds) on
purpose: a key opened once is never kept for later requests, since a cache of decrypted keys
would let the server sign without the party's secret. What a signature costs beyond that was cut
instead (``benchmarks/signoff.py``): :class:`LoadedKeySigner` signs with the key as the PKCS#12
file yielded it, the CMS container's size is computed, not measured with a dummy signature
(:func:`reserved_signature_size`), and the seal's font is the bundled one without its OpenType
layout tables (:func:`seal_font_file`).

Secrets travel as :class:`SigningSecret`, which never prints and cannot be pickled (so it cannot
reach a Celery message by accident).

:func:`create_dev_ca` makes a development root CA and one PKCS#12 file per party, each encrypted
with that party's demo passphrase (:func:`demo_signing_passphrase`, derived from the
organisation); ``manage.py create_dev_ca`` only with DEBUG on. ``ca.pem`` holds the roots to
trust; in production it holds the real CAs and each party installs its own ``<key>.p12``.

pyHanko runs its own event loop (``asyncio.run``): call these functions from synchronous code
(sync views and services, Celery tasks, management commands), not from inside a running loop.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Protocol, runtime_checkable

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.module_loading import import_string
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter, copy_into_new_writer
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStamp, TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from govcloud.workdays import BUSINESS_TZ

logger = logging.getLogger(__name__)

#: Passphrase of the development CA's private key (``ca-key.pem``), so that later runs of
#: ``create_dev_ca`` can issue keys for new parties. Development only: a production CA is not
#: on the platform's server at all. No party key is encrypted with it.
DEV_CA_PASSPHRASE = b"govcloud-dev-ca"
#: Prefix of the development/demo passphrase of a party's key (:func:`demo_signing_passphrase`).
DEMO_PASSPHRASE_PREFIX = "demo-sign-"  # noqa: S105 — a documented demo convention
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CA_COMMON_NAME = "GovCloud 开发测试根证书（仅限开发）"
CA_ORGANIZATION = "GovCloud Development"
CA_VALIDITY = timedelta(days=3650)
PARTY_VALIDITY = timedelta(days=3 * 365)
# Issue certificates a day in the past so a signer's clock that lags a little (or a test that
# moves time back an hour) still finds them valid.
BACKDATE = timedelta(days=1)
RSA_KEY_SIZE = 2048  # what every PDF reader in government use verifies; Ed25519/SM2 are not
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SigningError(Exception):
    """A signature could not be prepared, applied or checked."""


class SigningKeyMissing(SigningError):
    """No signing key installed for a party."""


class WrongSigningSecret(SigningError):
    """The secret the signer typed does not open the party's key."""


class InvalidPdf(SigningError):
    """The bytes are not a PDF that can be read."""


# --------------------------------------------------------------------------------------------------
# Secrets and party signers


class SigningSecret:
    """What a signer typed to unlock their organisation's key (a passphrase, a PIN, a token).

    Held only for the request that signs. It never prints (``repr``/``str`` show ``***``), is
    never equal to anything (no accidental comparison against stored values) and refuses to be
    pickled, so it cannot end up in a log line, a traceback, a cache or a Celery message.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes | None) -> None:
        if isinstance(value, str):
            value = value.encode()
        self._value: bytes = value or b""

    def reveal(self) -> bytes:
        """The secret itself: pass it straight to the key, keep no reference."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "SigningSecret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return id(self)

    def __reduce__(self) -> tuple:
        raise TypeError("A SigningSecret cannot be pickled (it must not leave the request)")


@runtime_checkable
class PartySigner(Protocol):
    """A party's signing key, usable only with the secret its signer supplies.

    ``open`` returns a pyHanko ``Signer`` for the signatures of one sign-off (kept in memory,
    dropped after), or raises :class:`WrongSigningSecret` (the secret does not open the key),
    :class:`SigningKeyMissing` (no key installed for the party) or :class:`SigningError`.
    Implementations: :class:`Pkcs12PartySigner`; a PKCS#11 token or a remote signing service
    are further classes with the same two members (README, "签名密钥 / Signing keys").
    """

    key: str

    def open(self, secret: SigningSecret) -> signers.Signer: ...


@dataclass(frozen=True)
class Pkcs12PartySigner:
    """The party's PKCS#12 file, encrypted with the party's own passphrase (typed at sign-off)."""

    key: str
    path: Path

    @classmethod
    def from_settings(cls, key: str) -> Pkcs12PartySigner:
        _check_key(key)
        return cls(key=key, path=Path(settings.SIGNING_DIR) / f"{key}.p12")

    def open(self, secret: SigningSecret) -> signers.Signer:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise SigningKeyMissing(
                f"No signing key for {self.key!r}: {self.path.name} is not installed "
                "(development: run `python manage.py create_dev_ca`)"
            ) from None
        if not secret:
            raise WrongSigningSecret(f"No passphrase given for the signing key of {self.key!r}")
        try:
            private_key, certificate, chain = pkcs12.load_key_and_certificates(
                data, secret.reveal()
            )
        except ValueError:
            # ``from None``: the chained traceback's frames hold the passphrase as a local.
            raise WrongSigningSecret(
                f"The passphrase does not open the signing key of {self.key!r}"
            ) from None
        if private_key is None or certificate is None:
            raise SigningError(f"{self.path.name} holds no key and certificate")
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise SigningError(f"{self.path.name} is not an RSA key")
        return LoadedKeySigner(private_key=private_key, certificate=certificate, chain=chain)


class LoadedKeySigner(signers.Signer):
    """A pyHanko ``Signer`` over an RSA key already loaded in memory (PKCS#1 v1.5).

    pyHanko's ``SimpleSigner`` keeps its key as DER and parses it again for every raw
    signature — with OpenSSL 3's RSA key checks that is tens of milliseconds each time, and a
    PDF signature takes two (the size estimate's dry run and the signature) — though the
    PKCS#12 file was parsed once already. This signer keeps the parsed key (for this sign-off
    only, like ``SimpleSigner``) and answers the dry run without signing.
    """

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        self._private_key = private_key
        registry = SimpleCertificateStore()
        registry.register_multiple([_to_asn1(c) for c in chain])
        super().__init__(signing_cert=_to_asn1(certificate), cert_registry=registry)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = _DIGESTS.get(digest_algorithm)
        if mechanism != "rsassa_pkcs1v15" or digest is None:
            raise PyHankoSigningError(
                f"Unsupported signature mechanism {mechanism} with {digest_algorithm}"
            )
        if dry_run:  # only the length matters
            return bytes(self._private_key.key_size // 8)
        return self._private_key.sign(data, PKCS1v15(), digest())


_DIGESTS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


#: The setting naming the factory of party signers (dotted path of ``key -> PartySigner``).
PARTY_SIGNER_SETTING = "SIGNING_PARTY_SIGNER"


def party_signer(key: str) -> PartySigner:
    """The signer of party ``key`` (e.g. ``"org-7"``): ``settings.SIGNING_PARTY_SIGNER`` (a
    dotted path to a callable ``key -> PartySigner``), by default :class:`Pkcs12PartySigner`
    under ``settings.SIGNING_DIR``."""
    _check_key(key)
    path = getattr(settings, PARTY_SIGNER_SETTING, "")
    factory: Callable[[str], PartySigner] = (
        import_string(path) if path else Pkcs12PartySigner.from_settings
    )
    return factory(key)


def party_key(organization_pk: int) -> str:
    """The signing key name of a party organisation: ``org-<pk>`` (file ``org-<pk>.p12``)."""
    return f"org-{organization_pk}"


def demo_signing_passphrase(organization_pk: int) -> str:
    """The development/demo passphrase of an organisation's key: ``demo-sign-org-<pk>``.

    Deterministic so that ``create_dev_ca``, ``seed_demo`` (which prints it next to the logins),
    the demo data and the tests agree. Never used when DEBUG is off (``create_dev_ca`` refuses
    in production mode); a production key has its party's own passphrase.
    """
    return f"{DEMO_PASSPHRASE_PREFIX}{party_key(organization_pk)}"


def dev_party(organization_pk: int, common_name: str) -> tuple[str, str, bytes]:
    """``(key, common_name, passphrase)`` for :func:`create_dev_ca`, with the demo passphrase."""
    return (
        party_key(organization_pk),
        common_name,
        demo_signing_passphrase(organization_pk).encode(),
    )


# --------------------------------------------------------------------------------------------------
# Keys (development CA)


def create_dev_ca(
    directory: Path,
    parties: Sequence[tuple[str, str, bytes]],
    *,
    ca_passphrase: bytes = DEV_CA_PASSPHRASE,
    force: bool = False,
) -> list[Path]:
    """Create a development root CA and a signing certificate per party in ``directory``.

    ``parties`` are ``(key, common_name, passphrase)``; each gets ``<key>.p12`` (key, certificate
    and CA certificate) encrypted with *its own* ``passphrase``, with subject ``CN=common_name,
    O=common_name, C=CN``. ``ca.pem`` is the certificate to trust, ``ca-key.pem`` the CA key
    (encrypted with ``ca_passphrase``) so that later runs can issue certificates for new parties.

    Idempotent: existing files are kept unless ``force``; when the CA itself is (re)created, every
    listed party is (re)issued, since certificates of a previous CA would no longer verify.
    Returns the files written.
    """
    for key, _name, passphrase in parties:
        _check_key(key)
        if not passphrase:
            raise ValueError(f"An empty passphrase for {key!r}: every party key is encrypted")
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    ca_cert_path, ca_key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE

    if force or not (ca_cert_path.exists() and ca_key_path.exists()):
        ca_key, ca_cert = _new_ca()
        _write_private(
            ca_key_path,
            ca_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(ca_passphrase),
            ),
        )
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        written += [ca_cert_path, ca_key_path]
        reissue_all = True
    else:
        loaded_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), ca_passphrase)
        if not isinstance(loaded_key, rsa.RSAPrivateKey):
            raise SigningError(f"{ca_key_path} is not an RSA key")
        ca_key = loaded_key
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        reissue_all = False

    for key, common_name, passphrase in parties:
        p12_path = directory / f"{key}.p12"
        if p12_path.exists() and not reissue_all:
            continue
        party_private_key, party_cert = _new_party_certificate(common_name, ca_key, ca_cert)
        _write_private(
            p12_path,
            pkcs12.serialize_key_and_certificates(
                name=key.encode(),
                key=party_private_key,
                cert=party_cert,
                cas=[ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
            ),
        )
        written.append(p12_path)
    return written


def trust_roots_from_settings() -> list[asn1_x509.Certificate]:
    """The certificates in ``settings.SIGNING_DIR/ca.pem`` (the dev CA, or production roots)."""
    path = Path(settings.SIGNING_DIR) / CA_CERT_FILE
    if not path.exists():
        raise SigningKeyMissing(f"No trust roots: {path} is missing")
    return [
        _to_asn1(certificate) for certificate in x509.load_pem_x509_certificates(path.read_bytes())
    ]


def _check_key(key: str) -> None:
    # The key becomes a file name: no path separators, no surprises.
    if not _KEY_PATTERN.match(key):
        raise ValueError(f"Invalid signing key name {key!r}")


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


def _new_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _new_rsa_key()
    name = _name(CA_COMMON_NAME, CA_ORGANIZATION)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _new_party_certificate(
    common_name: str, ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _new_rsa_key()
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + PARTY_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature + nonRepudiation (contentCommitment): what a document signature
            # needs, and what pyHanko's validator requires by default.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def _to_asn1(certificate: x509.Certificate | asn1_x509.Certificate) -> asn1_x509.Certificate:
    if isinstance(certificate, asn1_x509.Certificate):
        return certificate
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


# --------------------------------------------------------------------------------------------------
# Signing


def prepare_signature_fields(
    pdf: bytes, field_names: Sequence[str], *, require_seal_boxes: bool = False
) -> bytes:
    """Rewrite ``pdf`` as a single revision with one empty signature field per name, in order.

    A field whose seal box the document marks (named destinations ``seal-<name>`` and
    ``seal-<name>-end``, see :func:`seal_boxes`) becomes a visible widget over that box, showing
    "待签认" until its party signs; the signature replaces that appearance with the party's seal
    (:func:`sign_pdf`). A field without a box is invisible (readers list it in their signature
    panel) — or, with ``require_seal_boxes``, a :class:`SigningError`: a statement whose printed
    sign-off table lost a party's box must not go out without that party's seal.
    """
    if len(set(field_names)) != len(field_names):
        raise ValueError("Signature field names must be unique")
    reader = _reader(pdf)
    if reader.embedded_signatures:
        # Rewriting the file would break them; fields must exist before the first signature.
        raise SigningError("The PDF is already signed; prepare fields before the first signature")
    boxes = seal_boxes(reader, field_names)
    missing = [name for name in field_names if name not in boxes]
    if require_seal_boxes and missing:
        raise SigningError(f"No seal box in the PDF for signature field(s) {', '.join(missing)}")
    writer = copy_into_new_writer(reader)
    for name in field_names:
        box = boxes.get(name)
        if box is None:
            fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name))
            continue
        fields.append_signature_field(
            writer, fields.SigFieldSpec(sig_field_name=name, on_page=box.page, box=box.rect)
        )
    _draw_pending(writer, boxes)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def sign_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    field_name: str,
    reason: str,
    location: str,
    name: str,
    certify: bool = False,
    organization: str | None = None,
) -> bytes:
    """Append a PAdES signature into the existing empty field ``field_name``, incrementally.

    ``name`` is the signer's display name (``/Name``), ``reason``/``location`` are shown by
    readers. The signing time is now, from the clock. ``certify=True`` (first signature only)
    makes it a certification signature allowing only form filling and signing afterwards.

    A visible field (one with a seal box) gets the party's seal as its appearance in the same
    incremental update: ``organization`` (default ``location``), ``name`` and
    "已签认 <signing time, +0800>" in red, in the bundled font. Nothing else of the document
    changes.
    """
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
    except (PdfError, ValueError) as exc:
        raise InvalidPdf(f"Not a readable PDF: {exc}") from exc
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    width, height = _widget_size(writer, field_name)
    try:
        output = signers.PdfSigner(
            metadata, signer=signer, stamp_style=seal_style(width, height)
        ).sign_pdf(
            writer,
            existing_fields_only=True,
            bytes_reserved=reserved_signature_size(signer),
            appearance_text_params={"organization": organization or location},
        )
    except PyHankoSigningError as exc:
        raise SigningError(f"Cannot sign field {field_name!r}: {exc}") from exc
    return output.getvalue()


#: Room in a signature's CMS container beyond the certificates and the signature value: signed
#: attributes, algorithm identifiers, the DER framing (measured: ~1.2 KiB; kept generous).
_CMS_OVERHEAD = 4096


def reserved_signature_size(signer: signers.Signer) -> int:
    """Hex digits to reserve for the signature container of ``signer``.

    pyHanko otherwise builds a complete dummy container to measure it before every signature;
    the container is the certificates it embeds, the signature value and a bounded overhead,
    so the size is known up front (twice the DER bytes: the container is written in hex).
    """
    certificates = [signer.signing_cert, *(signer.cert_registry or ())]
    der = sum(len(c.dump()) for c in certificates if c is not None)
    public_key = signer.signing_cert.public_key if signer.signing_cert is not None else None
    key_bytes = (public_key.bit_size + 7) // 8 if public_key is not None else 1024
    return 2 * (der + key_bytes + _CMS_OVERHEAD)


def _widget_size(writer: IncrementalPdfFileWriter, field_name: str) -> tuple[float, float]:
    """Width and height of the field's widget (0 × 0 for an invisible field or none)."""
    for _name, _value, field_ref in fields.enumerate_sig_fields(writer, with_name=field_name):
        rect = field_ref.get_object().get("/Rect")
        if rect is not None and len(rect) == 4:
            x1, y1, x2, y2 = (float(value) for value in rect)
            return abs(x2 - x1), abs(y2 - y1)
    return 0.0, 0.0


# --------------------------------------------------------------------------------------------------
# Seals: where each party's signature shows on the page, and how


#: The bundled font (``govcloud.pdf.render`` embeds the same file in the rendered pages).
SEAL_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSCGovCloud-Regular.otf"
SEAL_RED = (0.80, 0.08, 0.08)
PENDING_GREY = (0.40, 0.40, 0.40)
#: What an unsigned party's box shows; the signature's appearance replaces it.
PENDING_TEXT = "待签认"
SIGNED_TEXT = "已签认"
SEAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # 2026-12-04 22:30:15 +0800
#: The smallest box (points) a seal is laid out in; a smaller marked box counts as none.
SEAL_MIN_SIZE = (60.0, 28.0)
_SEAL_ANCHOR_PREFIX = "seal-"
_SEAL_ANCHOR_END = "-end"
# pyHanko formats the signing time (the one it writes as /M) with the style's format in the
# server's local zone; it is written in this parseable form and re-formatted in +0800.
_RAW_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def seal_anchor(field_name: str) -> str:
    """The ``id`` (PDF named destination) on the top-left corner of a field's seal box."""
    return f"{_SEAL_ANCHOR_PREFIX}{field_name}"


def seal_end_anchor(field_name: str) -> str:
    """The ``id`` (PDF named destination) on the bottom-right corner of a field's seal box."""
    return f"{_SEAL_ANCHOR_PREFIX}{field_name}{_SEAL_ANCHOR_END}"


@dataclass(frozen=True, slots=True)
class SealBox:
    """Where a party's seal goes: page index (0-based) and ``(llx, lly, urx, ury)`` in points."""

    page: int
    rect: tuple[float, float, float, float]

    @property
    def width(self) -> float:
        return self.rect[2] - self.rect[0]

    @property
    def height(self) -> float:
        return self.rect[3] - self.rect[1]


def seal_boxes(pdf: bytes | PdfFileReader, field_names: Sequence[str]) -> dict[str, SealBox]:
    """The seal box of each field the document marks, from its named destinations.

    The renderer puts an element with ``id`` :func:`seal_anchor` on the box and one with
    :func:`seal_end_anchor` at its bottom-right corner (WeasyPrint writes every ``id`` as a
    named destination ``[page /XYZ left top zoom]``); both on the same page and the box at
    least :data:`SEAL_MIN_SIZE`, or no box.
    """
    reader = pdf if isinstance(pdf, PdfFileReader) else _reader(pdf)
    destinations = _named_destinations(reader)
    if not destinations:
        return {}
    page_index = {ref: index for index, ref in enumerate(_page_refs(reader.root["/Pages"]))}
    boxes: dict[str, SealBox] = {}
    for name in field_names:
        start = _destination_point(destinations.get(seal_anchor(name)), page_index)
        end = _destination_point(destinations.get(seal_end_anchor(name)), page_index)
        if start is None or end is None or start[0] != end[0]:
            continue
        (page, (x1, y1)), (_, (x2, y2)) = start, end
        rect = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        if rect[2] - rect[0] >= SEAL_MIN_SIZE[0] and rect[3] - rect[1] >= SEAL_MIN_SIZE[1]:
            boxes[name] = SealBox(page=page, rect=rect)
    return boxes


def _named_destinations(reader: PdfFileReader) -> dict[str, generic.PdfObject]:
    found: dict[str, generic.PdfObject] = {}
    root = reader.root
    names = root.get("/Names")
    if names is not None:
        tree = names.get_object().get("/Dests")
        if tree is not None:
            _walk_name_tree(tree.get_object(), found, depth=0)
    legacy = root.get("/Dests")  # PDF 1.1 style: a dictionary of names
    if legacy is not None:
        for key, value in legacy.get_object().items():
            found.setdefault(str(key).lstrip("/"), value)
    return found


def _walk_name_tree(node: generic.DictionaryObject, found: dict, *, depth: int) -> None:
    if depth > 32:  # a malformed (cyclic) tree
        return
    entries = node.get("/Names")
    if entries is not None:
        entries = entries.get_object()
        for index in range(0, len(entries) - 1, 2):
            found.setdefault(str(entries[index]), entries.raw_get(index + 1))
    for kid in node.get("/Kids", ()):
        _walk_name_tree(kid, found, depth=depth + 1)


def _page_refs(node: generic.PdfObject, depth: int = 0) -> list[generic.Reference]:
    refs: list[generic.Reference] = []
    kids = node.get_object().get("/Kids")
    for index in range(len(kids) if kids is not None else 0):
        kid = kids.raw_get(index)
        target = kid.get_object()
        if target.get("/Type") == "/Pages" and depth < 32:
            refs.extend(_page_refs(target, depth + 1))
        else:
            refs.append(kid.reference)
    return refs


def _destination_point(
    destination: generic.PdfObject | None, page_index: dict[generic.Reference, int]
) -> tuple[int, tuple[float, float]] | None:
    if destination is None:
        return None
    destination = destination.get_object()
    if isinstance(destination, generic.DictionaryObject):  # {/D [...]} form
        destination = destination.get("/D")
        if destination is None:
            return None
        destination = destination.get_object()
    if not isinstance(destination, generic.ArrayObject) or len(destination) < 4:
        return None
    page_ref, kind = destination.raw_get(0), destination[1]
    if not isinstance(page_ref, generic.IndirectObject) or kind != "/XYZ":
        return None
    page = page_index.get(page_ref.reference)
    if page is None:
        return None
    try:
        return page, (float(destination[2]), float(destination[3]))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class _SealStampStyle(TextStampStyle):
    """A text stamp whose signing time always reads in +0800, whatever the server's zone.

    pyHanko passes the signing time it also writes as the signature's ``/M`` as ``ts``,
    formatted with :attr:`timestamp_format`; this style asks for a parseable form and writes it
    again in the business time zone, so the seal and the signature agree to the second.
    """

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict
    ) -> TextStamp:
        params = dict(text_params)
        raw = params.get("ts")
        if raw:
            moment = datetime.strptime(raw, _RAW_TIME_FORMAT)  # noqa: DTZ007 — has %z
            params["ts"] = moment.astimezone(BUSINESS_TZ).strftime(SEAL_TIME_FORMAT)
        return super().create_stamp(writer, box, params)


def _font(size: int) -> GlyphAccumulatorFactory:
    return GlyphAccumulatorFactory(str(seal_font_file()), font_size=size)


_SEAL_FONT_FILES: dict[tuple[int, int], Path] = {}
_SEAL_FONT_LOCK = threading.Lock()
#: OpenType layout tables a seal does not use (horizontal CJK, Latin digits, no features).
_SEAL_FONT_DROP = ("GSUB", "GPOS", "GDEF")


def seal_font_file() -> Path:
    """The bundled font as the seals embed it: the same file without its OpenType layout tables.

    pyHanko subsets the font for every appearance it draws, and fontTools' subsetter decompiles
    the layout tables of Noto CJK before dropping them — ~0.4 s of each signature, for tables
    the seal's plain horizontal text never uses. The copy without them (same glyphs, outlines,
    metrics and name) is written once per version of the bundled file under
    ``VAR_DIR/cache/`` (the application's own directory, not a shared temporary one) and
    remembered per process.
    """
    stat = SEAL_FONT.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    path = _SEAL_FONT_FILES.get(key)
    if path is not None and path.exists():
        return path
    with _SEAL_FONT_LOCK:
        directory = Path(settings.VAR_DIR) / "cache"
        path = directory / f"{SEAL_FONT.stem}-seal-{stat.st_mtime_ns}-{stat.st_size}.otf"
        try:
            if not path.exists():
                _write_seal_font(path)
        except OSError:  # a read-only VAR_DIR: slower seals, not refused sign-offs
            logger.warning("Cannot write the seal font cache %s; using the full font", path)
            return SEAL_FONT
        _SEAL_FONT_FILES[key] = path
    return path


def _write_seal_font(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    font = TTFont(SEAL_FONT, lazy=True)  # the tables left alone are copied byte for byte
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        for tag in _SEAL_FONT_DROP:
            if tag in font:
                del font[tag]
        font.save(partial)
    finally:
        font.close()
    os.replace(partial, path)  # atomic: a concurrent process sees all of it or nothing


def _seal_background(width: float, height: float) -> RawContent:
    # A faint red wash and an inner rule inside the stamp's red border: reads as a seal. Drawn in
    # the stamp's own coordinates (a background without a box is painted as-is at the origin).
    inset = 3.5
    return RawContent(
        b"q 1 0.94 0.94 rg 0 0 %.2f %.2f re f %.2f %.2f %.2f RG 0.8 w %.2f %.2f %.2f %.2f re S Q"
        % (width, height, *SEAL_RED, inset, inset, width - 2 * inset, height - 2 * inset)
    )


def seal_style(width: float, height: float) -> TextStampStyle:
    """The appearance of a signed party's box (``width`` × ``height`` points): a red seal with
    the organisation, the signer and "已签认 <time +0800>", shrunk to fit a small box."""
    return _SealStampStyle(
        stamp_text=f"%(organization)s\n签认人：%(signer)s\n{SIGNED_TEXT} %(ts)s",
        timestamp_format=_RAW_TIME_FORMAT,
        text_box_style=TextBoxStyle(font=_font(9), leading=12, text_color=SEAL_RED),
        border_width=2,
        border_color=SEAL_RED,
        background=_seal_background(width, height),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins.uniform(0),
        ),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(6),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
    )


def _pending_style() -> TextStampStyle:
    return TextStampStyle(
        stamp_text=PENDING_TEXT,
        text_box_style=TextBoxStyle(font=_font(10), text_color=PENDING_GREY),
        border_width=0,
    )


def _draw_pending(writer: BasePdfFileWriter, boxes: dict[str, SealBox]) -> None:
    """Give every visible, unsigned field the "待签认" appearance."""
    if not boxes:
        return
    style = _pending_style()
    # One appearance per box size, shared by the widgets (one font subset, not one per party).
    stamps: dict[tuple[float, float], TextStamp] = {}
    for name, _value, field_ref in fields.enumerate_sig_fields(writer):
        box = boxes.get(name)
        if box is None:
            continue
        size = (round(box.width, 2), round(box.height, 2))
        stamp = stamps.get(size)
        if stamp is None:
            stamp = stamps[size] = style.create_stamp(
                writer, layout.BoxConstraints(width=size[0], height=size[1]), {}
            )
        stamp.apply_appearance(field_ref.get_object())  # fields are combined with their widget


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """What a reader needs to know about one signature of a PDF."""

    field_name: str
    signer_common_name: str
    signer_organization: str
    #: The signer's claimed signing time (``/M``), aware; ``None`` if absent.
    signing_time: datetime | None
    #: The signed bytes hash to the value in the signature: the covered content is unchanged.
    intact: bool
    #: The cryptographic signature over the signed attributes checks out.
    valid: bool
    #: Valid, intact and the certificate chains to one of the trust roots (with key usage).
    trusted: bool
    #: Modifications after this signature respect the DocMDP policy in force (``None``: unknown).
    docmdp_ok: bool | None
    #: pyHanko ``SignatureCoverageLevel`` name: ``ENTIRE_FILE`` for the last signature,
    #: ``ENTIRE_REVISION`` for earlier ones; anything else is suspect.
    coverage: str
    #: pyHanko ``ModificationLevel`` name of what changed after this signature: ``NONE``,
    #: ``LTA_UPDATES``, ``FORM_FILLING`` (e.g. later signatures), ``ANNOTATIONS`` or ``OTHER``.
    modification_level: str

    @property
    def ok(self) -> bool:
        """The signature holds: intact, trusted, and nothing but signing/form filling since."""
        return (
            self.intact
            and self.trusted
            and self.docmdp_ok is True
            and self.modification_level in _ACCEPTED_MODIFICATIONS
        )


_ACCEPTED_MODIFICATIONS = frozenset(
    level.name for level in ModificationLevel if level.value <= ModificationLevel.FORM_FILLING.value
)


def verify_pdf(
    pdf: bytes, *, trust_roots: Sequence[x509.Certificate | asn1_x509.Certificate]
) -> list[SignatureReport]:
    """Check every signature of ``pdf`` against ``trust_roots``; reports in signing order.

    No network access: revocation is not checked (development certificates carry no CRL/OCSP
    locations; add revocation data to the validation context when production CAs require it).
    Raises :class:`InvalidPdf` for bytes that do not parse as a PDF.
    """
    reader = _reader(pdf)
    context = ValidationContext(
        trust_roots=[_to_asn1(root) for root in trust_roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    reports: list[SignatureReport] = []
    for embedded in reader.embedded_regular_signatures:
        try:
            status = validate_pdf_signature(embedded, signer_validation_context=context)
        except (PdfError, ValueError) as exc:  # a mangled signature dictionary or CMS blob
            raise InvalidPdf(f"Unreadable signature in field {embedded.field_name!r}") from exc
        subject = embedded.signer_cert.subject.native
        level = status.modification_level
        reports.append(
            SignatureReport(
                field_name=embedded.field_name,
                signer_common_name=subject.get("common_name", ""),
                signer_organization=subject.get("organization_name", ""),
                signing_time=status.signer_reported_dt,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                docmdp_ok=status.docmdp_ok,
                coverage=status.coverage.name if status.coverage else "UNCLEAR",
                modification_level=level.name if level else ModificationLevel.OTHER.name,
            )
        )
    return reports


def sha256_hex(pdf: bytes) -> str:
    """Hex SHA-256 of the PDF bytes (what the platform records for each signed version)."""
    return hashlib.sha256(pdf).hexdigest()


def _reader(pdf: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(BytesIO(pdf))
    except (PdfError, ValueError) as exc:
        raise InvalidPdf(f"Not a readable PDF: {exc}") from exc
