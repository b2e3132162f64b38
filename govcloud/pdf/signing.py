"""PAdES signatures of report PDFs by several parties, one after another, with pyHanko.

The flow for a statement signed by, say, vendor → supervisor → bureau:

1. ``prepare_signature_fields(pdf, ["vendor", "supervisor", "bureau"])`` — the rendered PDF is
   rewritten once with one empty, invisible signature field per party. The fields exist before the
   first signature, so no later signature has to add a field (which a strict reader counts as a
   change after signing).
2. ``sign_pdf(pdf, signer=signer_for("org-7"), field_name="vendor", ...)`` on each sign-off —
   appends a PAdES baseline signature (``/ETSI.CAdES.detached``) as an *incremental update*
   filling that party's field. Earlier revisions stay byte-for-byte intact, so earlier signatures
   remain valid and each one covers exactly the document as it was when that party signed.
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

Keys: :func:`create_dev_ca` makes a development root CA and one PKCS#12 file per party under
``settings.SIGNING_DIR`` (``manage.py create_dev_ca``). In production the same directory holds each
party's real PKCS#12 file (``<key>.p12``) and ``ca.pem`` with the roots to trust; the passphrase
comes from the ``SIGNING_P12_PASSPHRASE`` environment variable.

pyHanko runs its own event loop (``asyncio.run``): call these functions from synchronous code
(Celery tasks, management commands, sync views), not from inside a running event loop.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

#: Passphrase of the development PKCS#12 files when ``SIGNING_P12_PASSPHRASE`` is unset. Never
#: used when ``settings.DEBUG`` is False.
DEV_P12_PASSPHRASE = b"govcloud-dev"
PASSPHRASE_ENV = "SIGNING_P12_PASSPHRASE"  # noqa: S105 — the variable's name, not a secret
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
    """No usable PKCS#12 file for a party."""


class InvalidPdf(SigningError):
    """The bytes are not a PDF that can be read."""


# --------------------------------------------------------------------------------------------------
# Keys


def create_dev_ca(
    directory: Path,
    parties: Sequence[tuple[str, str]],
    *,
    passphrase: bytes = DEV_P12_PASSPHRASE,
    force: bool = False,
) -> list[Path]:
    """Create a development root CA and a signing certificate per party in ``directory``.

    ``parties`` are ``(key, common_name)`` pairs; each gets ``<key>.p12`` (key, certificate and
    CA certificate, encrypted with ``passphrase``) with subject ``CN=common_name, O=common_name,
    C=CN``. ``ca.pem`` is the certificate to trust, ``ca-key.pem`` the CA key (encrypted with the
    same passphrase) so that later runs can issue certificates for new parties.

    Idempotent: existing files are kept unless ``force``; when the CA itself is (re)created, every
    listed party is (re)issued, since certificates of a previous CA would no longer verify.
    Returns the files written.
    """
    for key, _ in parties:
        _check_key(key)
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
                serialization.BestAvailableEncryption(passphrase),
            ),
        )
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        written += [ca_cert_path, ca_key_path]
        reissue_all = True
    else:
        loaded_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), passphrase)
        if not isinstance(loaded_key, rsa.RSAPrivateKey):
            raise SigningError(f"{ca_key_path} is not an RSA key")
        ca_key = loaded_key
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        reissue_all = False

    for key, common_name in parties:
        p12_path = directory / f"{key}.p12"
        if p12_path.exists() and not reissue_all:
            continue
        party_key, party_cert = _new_party_certificate(common_name, ca_key, ca_cert)
        _write_private(
            p12_path,
            pkcs12.serialize_key_and_certificates(
                name=key.encode(),
                key=party_key,
                cert=party_cert,
                cas=[ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
            ),
        )
        written.append(p12_path)
    return written


def load_signer(p12_path: Path, passphrase: bytes | None) -> signers.SimpleSigner:
    """Load a party's key, certificate and chain from a PKCS#12 file."""
    try:
        data = p12_path.read_bytes()
    except FileNotFoundError as exc:
        raise SigningKeyMissing(f"No signing key file {p12_path}") from exc
    try:
        return signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)
    except ValueError as exc:
        raise SigningKeyMissing(
            f"Cannot open {p12_path}: wrong passphrase ({PASSPHRASE_ENV}) or not a PKCS#12 file"
        ) from exc


def party_key(organization_pk: int) -> str:
    """The signing key name of a party organisation: ``org-<pk>`` (file ``org-<pk>.p12``)."""
    return f"org-{organization_pk}"


def signer_for(key: str) -> signers.SimpleSigner:
    """The signer of party ``key`` (e.g. ``"org-7"``) from ``settings.SIGNING_DIR/<key>.p12``.

    The passphrase comes from ``$SIGNING_P12_PASSPHRASE``; only with ``DEBUG`` on does it default
    to :data:`DEV_P12_PASSPHRASE` (what ``manage.py create_dev_ca`` uses).
    """
    _check_key(key)
    path = Path(settings.SIGNING_DIR) / f"{key}.p12"
    if not path.exists():
        raise SigningKeyMissing(
            f"No signing key for {key!r}: {path} is missing "
            "(development: run `python manage.py create_dev_ca`)"
        )
    return load_signer(path, p12_passphrase())


def trust_roots_from_settings() -> list[asn1_x509.Certificate]:
    """The certificates in ``settings.SIGNING_DIR/ca.pem`` (the dev CA, or production roots)."""
    path = Path(settings.SIGNING_DIR) / CA_CERT_FILE
    if not path.exists():
        raise SigningKeyMissing(f"No trust roots: {path} is missing")
    return [
        _to_asn1(certificate) for certificate in x509.load_pem_x509_certificates(path.read_bytes())
    ]


def p12_passphrase() -> bytes:
    """``$SIGNING_P12_PASSPHRASE``, or with ``DEBUG`` on the development default."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value.encode()
    if settings.DEBUG:
        return DEV_P12_PASSPHRASE
    raise ImproperlyConfigured(f"{PASSPHRASE_ENV} must be set when DEBUG is off")


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


def _new_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
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
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
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


def prepare_signature_fields(pdf: bytes, field_names: Sequence[str]) -> bytes:
    """Rewrite ``pdf`` as a single revision with one empty signature field per name, in order.

    The fields are invisible (the report prints its own signature block); readers list them in
    their signature panel.
    """
    if len(set(field_names)) != len(field_names):
        raise ValueError("Signature field names must be unique")
    reader = _reader(pdf)
    if reader.embedded_signatures:
        # Rewriting the file would break them; fields must exist before the first signature.
        raise SigningError("The PDF is already signed; prepare fields before the first signature")
    writer = copy_into_new_writer(reader)
    for name in field_names:
        fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name))
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
) -> bytes:
    """Append a PAdES signature into the existing empty field ``field_name``, incrementally.

    ``name`` is the signer's display name (``/Name``), ``reason``/``location`` are shown by
    readers. The signing time is now, from the clock. ``certify=True`` (first signature only)
    makes it a certification signature allowing only form filling and signing afterwards.
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
    try:
        output = signers.PdfSigner(metadata, signer=signer).sign_pdf(
            writer, existing_fields_only=True
        )
    except PyHankoSigningError as exc:
        raise SigningError(f"Cannot sign field {field_name!r}: {exc}") from exc
    return output.getvalue()


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
