#!/usr/bin/env python3
"""serve-load.py URL SECONDS CLIENTS PATH... - closed-loop HTTP load on `patchgap serve`.

CLIENTS threads, each with its own keep-alive connection, request the PATHs
round-robin (each thread starts at a different offset) for SECONDS and
record every latency.  Prints one line: n p50_ms p90_ms p99_ms max_ms errors.
"""
import http.client
import sys
import threading
import time
import urllib.parse

url, secs, clients, paths = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
u = urllib.parse.urlsplit(url)
lat, errors = [], [0]
lock = threading.Lock()
stop = time.monotonic() + secs


def worker(k):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    mine, i = [], k
    while time.monotonic() < stop:
        p = paths[i % len(paths)]
        i += 1
        t = time.monotonic()
        try:
            conn.request('GET', p)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(r.status)
        except Exception:  # noqa: BLE001
            with lock:
                errors[0] += 1
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            continue
        mine.append(time.monotonic() - t)
    with lock:
        lat.extend(mine)


ts = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
for t in ts:
    t.start()
for t in ts:
    t.join()
lat.sort()


def pct(p):
    return 1000 * lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0


print(len(lat), '%.1f %.1f %.1f %.1f' % (pct(0.5), pct(0.9), pct(0.99), 1000 * lat[-1] if lat else 0), errors[0])
