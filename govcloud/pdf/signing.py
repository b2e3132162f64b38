"""PAdES signatures of report PDFs by several parties, one after another, with pyHanko.

The flow for a statement signed by, say, vendor → supervisor → bureau:

1. ``prepare_signature_fields(pdf, ["vendor", "supervisor", "bureau"])`` — the rendered PDF is
   rewritten once with one empty, invisible signature field per party. The fields exist before the
   first signature, so no later signature has to add a field (which a strict reader counts as a
   change after signing).
2. ``sign_pdf(pdf, signer=party_signer("org-7").open(secret), field_name=..., ...)`` at each
   sign-off, with the secret the signer typed — appends a PAdES baseline signature
   (``/ETSI.CAdES.detached``) as an *incremental update* filling that party's field. Earlier
   revisions stay byte-for-byte intact, so earlier signatures remain valid and each one covers
   exactly the document as it was when that party signed.
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
import re
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
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.module_loading import import_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

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

    def open(self, secret: SigningSecret) -> signers.SimpleSigner:
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
            return signers.SimpleSigner.load_pkcs12_data(
                data, other_certs=[], passphrase=secret.reveal()
            )
        except ValueError:
            # ``from None``: the chained traceback's frames hold the passphrase as a local.
            raise WrongSigningSecret(
                f"The passphrase does not open the signing key of {self.key!r}"
            ) from None


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
