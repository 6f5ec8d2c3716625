#!/usr/bin/env python3
"""Opens N keep-alive connections to HOST:PORT, sends one MCP ping on each (so every connection is
a real, served keep-alive connection), then holds them idle until stdin closes or HOLD seconds
pass. Prints 'ready N' once all are open. Used by perf/run.sh to measure RSS per idle connection."""
import os, socket, sys, time, resource

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hold = float(os.environ.get("HOLD", "20"))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
req = (b"POST /mcp HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Type: application/json\r\n"
       b"Accept: application/json, text/event-stream\r\nContent-Length: " + str(len(body)).encode() +
       b"\r\n\r\n" + body)
socks, failed, answered = [], 0, 0
# One round trip per connection, in turn: each ends up a served, idle keep-alive connection, and
# the gateway never has more than one of these requests in flight (RSS then measures idleness,
# not a burst).
for i in range(n):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(req)
        if s.recv(4096):
            answered += 1
        socks.append(s)
    except OSError:
        failed += 1
print(f"ready {len(socks)} answered {answered} failed {failed}", flush=True)
deadline = time.time() + hold
while time.time() < deadline:
    time.sleep(0.2)
