#!/usr/bin/env python3
"""Forges a repro result in a REAPI action cache, for the refused-provenance test:
the DSSE envelope's statement is rewritten (its signature kept), stored as a new, intact
blob, and the action result is pointed at it.

usage: forge_provenance.py HOST:PORT INSTANCE sha256:HEX SIZE   (with BuildGrid's venv python)
"""
import base64
import hashlib
import json
import sys

import grpc
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as re
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2_grpc as rg

target, instance, action, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
channel = grpc.insecure_channel(target)
ac, cas = rg.ActionCacheStub(channel), rg.ContentAddressableStorageStub(channel)
found = re.Digest(hash=action.split(":", 1)[1], size_bytes=size)
result = ac.GetActionResult(re.GetActionResultRequest(instance_name=instance, action_digest=found))
entry = next(f for f in result.output_files if f.path == ".repro/provenance.intoto.jsonl")
blob = cas.BatchReadBlobs(re.BatchReadBlobsRequest(instance_name=instance, digests=[entry.digest])).responses[0].data
envelope = json.loads(blob)
statement = json.loads(base64.b64decode(envelope["payload"]))
statement["predicate"]["runDetails"]["builder"]["id"] = "urn:forged:builder"
envelope["payload"] = base64.b64encode(json.dumps(statement, sort_keys=True).encode()).decode()
forged = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
digest = re.Digest(hash=hashlib.sha256(forged).hexdigest(), size_bytes=len(forged))
req = re.BatchUpdateBlobsRequest(instance_name=instance)
req.requests.add(digest=digest, data=forged)
cas.BatchUpdateBlobs(req)
entry.digest.CopyFrom(digest)
ac.UpdateActionResult(re.UpdateActionResultRequest(instance_name=instance, action_digest=found, action_result=result))
print(f"forged {action}: provenance now {digest.hash}")
