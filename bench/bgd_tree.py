"""BuildGrid's own client library as bench/remote.sh's anchor: uploads a directory to a
BuildGrid CAS (upload_directory) and downloads it again into an empty directory
(download_directory), printing both times in ms as JSON.

Run with the BuildGrid venv's python: `python bench/bgd_tree.py URL INSTANCE DIR OUT`.

BuildGrid 0.4.4's client fills a BatchUpdateBlobs request with up to 4 MiB - 1 KiB of
blob bytes and does not count the per-blob framing, so on a tree of many small files
the request passes gRPC's 4 MiB message limit and the upload fails (`bgd cas
upload-dir`: "Received message larger than max"). Its batch limit is lowered to 3 MiB
here, which is all that is changed."""
import json
import sys
import time

import buildgrid.server.client.cas as cas
from buildgrid.server.client.channel import setup_channel

cas.MAX_REQUEST_SIZE = 3 << 20
url, instance, src, dst = sys.argv[1:5]
channel, _ = setup_channel(url)
t = time.perf_counter()
with cas.upload(channel, instance=instance) as up:
    root = up.upload_directory(src)
up_ms = (time.perf_counter() - t) * 1000
t = time.perf_counter()
with cas.download(channel, instance=instance) as down:
    down.download_directory(root, dst)
down_ms = (time.perf_counter() - t) * 1000
print(json.dumps({"upload_ms": round(up_ms), "download_ms": round(down_ms), "root": f"{root.hash}/{root.size_bytes}"}))
