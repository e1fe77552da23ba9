#!/usr/bin/env python3
"""Write the REAPI v2 / Bots / ByteStream / Operations .proto definitions as one
FileDescriptorSet, read from the generated modules of the pinned `buildgrid` package
(so no other project's .proto files are copied into this repository).

usage: descriptors.py OUT.pb   (run with the BuildGrid venv's python)
"""
import importlib
import sys

from google.protobuf import descriptor_pb2

ROOTS = [
    "buildgrid._protos.build.bazel.remote.execution.v2.remote_execution_pb2",
    "buildgrid._protos.google.bytestream.bytestream_pb2",
    "buildgrid._protos.google.devtools.remoteworkers.v1test2.bots_pb2",
    "buildgrid._protos.google.longrunning.operations_pb2",
    "buildgrid._protos.google.rpc.code_pb2",
]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: descriptors.py OUT.pb")
    ordered, seen = [], set()

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        ordered.append(proto)

    for name in ROOTS:
        visit(importlib.import_module(name).DESCRIPTOR)
    out = descriptor_pb2.FileDescriptorSet()
    out.file.extend(ordered)
    with open(sys.argv[1], "wb") as f:
        f.write(out.SerializeToString())
    for proto in ordered:
        print(proto.name)


if __name__ == "__main__":
    main()
