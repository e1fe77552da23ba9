#!/usr/bin/env python3
"""DSSE conformance of repro against securesystemslib, the reference implementation.

Run by AttestTests (ConformanceTests.swift) when this interpreter can import
securesystemslib and cryptography.

  conformance.py verify PUB.pem ENVELOPE.json
      securesystemslib verifies a repro envelope with the PEM public key; exit 0 and
      the payload on stdout, or exit 1 with the reason on stderr.
  conformance.py sign ed25519|ecdsa-p256 PAYLOAD OUT_ENVELOPE.json OUT_PUB.pem
      securesystemslib signs PAYLOAD with a fresh key; repro verifies it later.

  conformance.py statement ENVELOPE.json
      in-toto-attestation validates the envelope's payload as an in-toto Statement v1
      and parses the predicate strictly (unknown fields are errors) as SLSA Provenance v1.
  conformance.py test-result ENVELOPE.json
      in-toto-attestation validates the envelope's payload as an in-toto Statement v1
      and parses the predicate strictly with its TestResult protobuf binding
      (predicates.test_result.v0); result must be PASSED, WARNED or FAILED and every
      configuration descriptor must validate.
  conformance.py spdx FILE.spdx.json
      `pyspdxtools -i FILE` (spdx-tools) parses and validates an SPDX 2.3 document.
  conformance.py cyclonedx FILE.cdx.json
      cyclonedx-python-lib's strict JSON validator checks a CycloneDX 1.6 document.

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


def statement(envelope_path):
    import base64

    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    with open(envelope_path, "rb") as f:
        payload = base64.b64decode(json.load(f)["payload"])
    doc = json.loads(payload)
    try:
        stmt = Statement.copy_from_pb(json_format.Parse(payload, statement_pb2.Statement()))
        stmt.validate()
        if stmt.pb.predicate_type != "https://slsa.dev/provenance/v1":
            raise ValueError(f"predicateType is {stmt.pb.predicate_type}")
        prov = json_format.Parse(json.dumps(doc["predicate"]), provenance_pb2.Provenance())
        if not prov.build_definition.build_type or not prov.run_details.builder.id:
            raise ValueError("buildType and builder.id are required")
    except Exception as e:
        print(f"in-toto-attestation rejected the statement: {e}", file=sys.stderr)
        return 1
    print(f"{len(stmt.pb.subject)} subjects, "
          f"{len(prov.build_definition.resolved_dependencies)} resolved dependencies, "
          f"builder {prov.run_details.builder.id}")
    return 0


def test_result(envelope_path):
    import base64

    from google.protobuf import json_format
    from in_toto_attestation.predicates.test_result.v0 import test_result_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
    from in_toto_attestation.v1.statement import Statement

    with open(envelope_path, "rb") as f:
        payload = base64.b64decode(json.load(f)["payload"])
    doc = json.loads(payload)
    try:
        stmt = Statement.copy_from_pb(json_format.Parse(payload, statement_pb2.Statement()))
        stmt.validate()
        if stmt.pb.predicate_type != "https://in-toto.io/attestation/test-result/v0.1":
            raise ValueError(f"predicateType is {stmt.pb.predicate_type}")
        # The package has no validate() for this predicate: check the spec's rules here.
        result = json_format.Parse(json.dumps(doc["predicate"]), test_result_pb2.TestResult())
        if result.result not in ("PASSED", "WARNED", "FAILED"):
            raise ValueError(f"result is {result.result!r}, not PASSED, WARNED or FAILED")
        if len(result.configuration) == 0:
            raise ValueError("configuration is required")
        for rd in result.configuration:
            ResourceDescriptor.copy_from_pb(rd).validate()
    except Exception as e:
        print(f"in-toto-attestation rejected the statement: {e}", file=sys.stderr)
        return 1
    print(f"{result.result}: {len(result.passed_tests)} passed, {len(result.warned_tests)} warned, "
          f"{len(result.failed_tests)} failed; {len(result.configuration)} configuration descriptors; "
          f"{len(stmt.pb.subject)} subjects")
    return 0


def spdx(path):
    import os
    import subprocess

    # The spdx-tools command line, as a user would run it: parse and validate.
    tool = os.path.join(os.path.dirname(sys.executable), "pyspdxtools")
    r = subprocess.run([tool, "-i", path], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"pyspdxtools -i rejected the document: {r.stdout}{r.stderr}", file=sys.stderr)
        return 1
    from spdx_tools.spdx.parser.parse_anything import parse_file

    document = parse_file(path)
    print(f"{len(document.packages)} packages, {len(document.files)} files, "
          f"{len(document.relationships)} relationships")
    return 0


def cyclonedx(path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    with open(path) as f:
        text = f.read()
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        print(f"cyclonedx-python-lib rejected the document: {error}", file=sys.stderr)
        return 1
    print(f"{len(json.loads(text).get('components', []))} components")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("statement", "test-result", "spdx", "cyclonedx"):
        sys.exit(globals()[sys.argv[1].replace("-", "_")](sys.argv[2]))
    if len(sys.argv) == 4 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 6 and sys.argv[1] == "sign":
        sys.exit(sign(*sys.argv[2:]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
