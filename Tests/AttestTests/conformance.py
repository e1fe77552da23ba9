#!/usr/bin/env python3
"""DSSE conformance of repro against securesystemslib, the reference implementation.

Run by AttestTests (ConformanceTests.swift) when this interpreter can import
securesystemslib and cryptography.

  conformance.py verify PUB.pem ENVELOPE.json
      securesystemslib verifies a repro envelope with the PEM public key; exit 0 and
      the payload on stdout, or exit 1 with the reason on stderr.
  conformance.py sign ed25519|ecdsa-p256 PAYLOAD OUT_ENVELOPE.json OUT_PUB.pem
      securesystemslib signs PAYLOAD with a fresh key; repro verifies it later.

securesystemslib only tries signatures whose keyid equals the key's keyid, so the key
is given repro's keyid, computed here independently: hex SHA-256 of the DER
SubjectPublicKeyInfo.
"""
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def repro_keyid(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def verify(pub_path, envelope_path):
    with open(pub_path, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    key = SSlibKey.from_crypto(public_key, keyid=repro_keyid(public_key))
    with open(envelope_path, "rb") as f:
        envelope = Envelope.from_dict(json.load(f))
    try:
        envelope.verify([key], 1)
    except Exception as e:  # VerificationError and friends
        print(f"securesystemslib rejected the envelope: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(envelope.payload)
    return 0


def sign(algorithm, payload_path, envelope_path, pub_path):
    if algorithm == "ed25519":
        signer = CryptoSigner.generate_ed25519()
    elif algorithm == "ecdsa-p256":
        signer = CryptoSigner.generate_ecdsa(scheme="ecdsa-sha2-nistp256")
    else:
        print(f"unknown algorithm {algorithm}", file=sys.stderr)
        return 2
    public_key = signer._private_key.public_key()
    signer = CryptoSigner(signer._private_key,
                          SSlibKey.from_crypto(public_key, keyid=repro_keyid(public_key),
                                               scheme=signer.public_key.scheme))
    with open(payload_path, "rb") as f:
        envelope = Envelope(f.read(), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    with open(envelope_path, "w") as f:
        json.dump(envelope.to_dict(), f)
    with open(pub_path, "wb") as f:
        f.write(public_key.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 6 and sys.argv[1] == "sign":
        sys.exit(sign(*sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
