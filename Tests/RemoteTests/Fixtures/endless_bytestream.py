#!/usr/bin/env python3
"""A hostile REAPI server for the oversized-stream test: Capabilities says SHA-256 and
a 4 MiB batch limit, and ByteStream.Read answers any blob with 1 MiB chunks that never
end (up to 1 GiB). BuildGrid itself never sends more than a blob's size, so this is the
only way to see what the client does when a server does.

usage: endless_bytestream.py PORT READY_FILE   (with BuildGrid's venv python)
"""
import sys
from concurrent import futures

import grpc
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as re
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2_grpc as rg
from buildgrid._protos.build.bazel.semver import semver_pb2
from buildgrid._protos.google.bytestream import bytestream_pb2 as bs
from buildgrid._protos.google.bytestream import bytestream_pb2_grpc as bsg

port, ready = sys.argv[1], sys.argv[2]


class Capabilities(rg.CapabilitiesServicer):
    def GetCapabilities(self, request, context):
        cache = re.CacheCapabilities(digest_functions=[re.DigestFunction.SHA256], max_batch_total_size_bytes=4 << 20)
        return re.ServerCapabilities(cache_capabilities=cache,
                                     low_api_version=semver_pb2.SemVer(major=2),
                                     high_api_version=semver_pb2.SemVer(major=2))


class ByteStream(bsg.ByteStreamServicer):
    def Read(self, request, context):
        chunk = b"x" * (1 << 20)
        for _ in range(1024):
            if not context.is_active():
                return
            yield bs.ReadResponse(data=chunk)


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
rg.add_CapabilitiesServicer_to_server(Capabilities(), server)
bsg.add_ByteStreamServicer_to_server(ByteStream(), server)
server.add_insecure_port(f"127.0.0.1:{port}")
server.start()
open(ready, "w").close()
server.wait_for_termination()
