"""Ed25519 keys for signing export manifests: loading, key ids, signing and checking."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"


class KeyFileError(ValueError):
    """A key file that cannot be used; the message names the file and the reason."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """`sha256:` + the hex SHA-256 of the key's DER SubjectPublicKeyInfo, which an auditor
    can recompute: `openssl pkey -pubin -in public.pem -outform DER | sha256sum`."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read the key file ({error.strerror})") from None


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and the id of its public half."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def from_file(cls, path: Path) -> SigningKey:
        """Read a PEM PKCS#8 Ed25519 private key (unencrypted)."""
        data = _read(path)
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            message = "the private key is encrypted; give an unencrypted one"
            raise KeyFileError(f"{path}: {message}") from None
        except ValueError:
            raise KeyFileError(f"{path}: not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "")
            raise KeyFileError(f"{path}: an Ed25519 private key is needed, this is {kind}")
        return cls(key, key_id(key.public_key()))

    def sign(self, data: bytes) -> str:
        """The signature of `data`, base64 (standard alphabet, padded)."""
        return base64.b64encode(self.private_key.sign(data)).decode("ascii")


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (SubjectPublicKeyInfo)."""
    data = _read(path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyFileError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        kind = type(key).__name__.removeprefix("_").replace("PublicKey", "")
        raise KeyFileError(f"{path}: an Ed25519 public key is needed, this is {kind}")
    return key


def signature_matches(public_key: Ed25519PublicKey, signature: str, data: bytes) -> bool:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key.verify(raw, data)
    except (InvalidSignature, ValueError, UnicodeError):
        return False
    return True


def make_key_pair(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (the private key readable by its owner only); returns its id."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Created with owner-only permissions, never left readable between create and chmod.
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return key_id(key.public_key())
