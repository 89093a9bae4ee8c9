"""Throw-away PKI for one local control plane: CA, serving cert, admin client cert, service-account keys.

EC P-256 everywhere: generating it takes milliseconds (RSA would dominate a fast start), and
kube-apiserver accepts it for TLS, client certificates and service-account token signing.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files `generate_pki` wrote."""

    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "apiserver.key"

    @property
    def admin_cert(self) -> Path:
        return self.dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.dir / "admin.key"

    @property
    def sa_key(self) -> Path:
        return self.dir / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.dir / "sa.pub"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _name(cn: str, orgs: Sequence[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in orgs]
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))  # tolerate small clock skew
        .not_valid_after(now + VALIDITY)
    )


def _leaf(
    cn: str,
    orgs: Sequence[str],
    usage: x509.ObjectIdentifier,
    ca_name: x509.Name,
    ca_key: ec.EllipticCurvePrivateKey,
    sans: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    builder = (
        _builder(_name(cn, orgs), ca_name, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def generate_pki(directory: Path) -> Pki:
    """Write a fresh CA and the certs/keys kube-apiserver and its admin client need into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    ca_key = _key()
    ca_name = _name("localcluster-ca")
    ca = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_cert(pki.ca_cert, ca)
    _write_key(directory / "ca.key", ca_key)  # kept so tests can mint more client certs if they need to

    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
        x509.DNSName("kubernetes.default.svc"),
    ]
    serving, serving_key = _leaf("kube-apiserver", (), ExtendedKeyUsageOID.SERVER_AUTH, ca_name, ca_key, sans)
    _write_cert(pki.serving_cert, serving)
    _write_key(pki.serving_key, serving_key)

    # O=system:masters: the built-in group that bypasses RBAC, as kubeadm's admin.conf does.
    admin, admin_key = _leaf("localcluster-admin", ["system:masters"], ExtendedKeyUsageOID.CLIENT_AUTH, ca_name, ca_key)
    _write_cert(pki.admin_cert, admin)
    _write_key(pki.admin_key, admin_key)

    sa_key = _key()
    _write_key(pki.sa_key, sa_key)
    pki.sa_pub.write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pki


def issue_client_cert(pki: Pki, name: str, user: str, groups: Sequence[str]) -> tuple[Path, Path]:
    """A client certificate from the cluster's CA for `user` in `groups`, as `<name>.crt`/`<name>.key`.

    The apiserver takes the CN as the user name and each O as a group, so a process can act as a
    service account (e.g. HNC, whose webhooks let only its own service accounts' group edit tree labels).
    """
    ca_key = serialization.load_pem_private_key((pki.dir / "ca.key").read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{pki.dir / 'ca.key'} is not the EC key generate_pki writes")
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    cert, key = _leaf(user, groups, ExtendedKeyUsageOID.CLIENT_AUTH, ca.subject, ca_key)
    paths = pki.dir / f"{name}.crt", pki.dir / f"{name}.key"
    _write_cert(paths[0], cert)
    _write_key(paths[1], key)
    return paths


@dataclass(frozen=True)
class ServingCert:
    """A CA and a server certificate it signed, e.g. for a webhook server the apiserver calls."""

    ca_cert: Path
    cert: Path
    key: Path


def generate_serving_cert(directory: Path, hosts: list[str]) -> ServingCert:
    """A fresh CA and a serving certificate for `hosts` (IP addresses or DNS names) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = _name("orgquota-webhook-ca")
    ca = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    leaf, leaf_key = _leaf(hosts[0], (), ExtendedKeyUsageOID.SERVER_AUTH, ca_name, ca_key, sans)
    result = ServingCert(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    _write_cert(result.ca_cert, ca)
    _write_cert(result.cert, leaf)
    _write_key(result.key, leaf_key)
    return result
