"""An HTTP client and server in one process (one sandbox): the server thread reads
requests with os.read and answers with os.write, so only the client calls recv(2).
Prints one JSON line: requests, ok, resets (ConnectionResetError seen by the client),
other errors."""
import http.client
import json
import os
import socket
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
BODY = b"hello"
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
port = srv.getsockname()[1]


def serve():
    while True:
        conn, _ = srv.accept()
        fd = conn.fileno()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        try:
            os.write(fd, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + BODY)
        except OSError:
            pass
        conn.close()


threading.Thread(target=serve, daemon=True).start()
ok = resets = other = 0
for _ in range(N):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request("GET", "/")
        r = c.getresponse()
        ok += r.read() == BODY
    except ConnectionResetError:
        resets += 1
    except Exception as e:  # anything else is a test failure, reported
        other += 1
        print("other:", repr(e), file=sys.stderr)
    finally:
        c.close()
print(json.dumps({"requests": N, "ok": ok, "resets": resets, "other": other}))
