"""Polling throughput: N feeds on a local server, a first poll, then a poll answered by 304s.

    python benchmarks/polling.py [--feeds 500] [--items 20] [--workers 16]

A threaded ``http.server`` on 127.0.0.1 serves every feed with an ETag and answers a
matching If-None-Match with 304. The feeds are polled through the project's own sources
(FeedSource on one shared HttpClient) from a thread pool, as the daemon would. Prints
feeds/s and items/s for both cycles, and the all-304 cycle against its 10 s target.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import HttpConfig, SourceConfig  # noqa: E402
from monitor.sources import make_source  # noqa: E402
from monitor.sources.base import SourceState  # noqa: E402
from monitor.sources.http import HttpClient  # noqa: E402

TARGET_304_SECONDS = 10.0


def feed_body(n: int, items: int) -> bytes:
    entries = "".join(
        f"<item><guid>urn:feed{n}:item{i}</guid><title>Feed {n} story {i}</title>"
        f"<link>https://news{n}.example.org/{i}</link><pubDate>Tue, 01 Oct 2024 12:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>&lt;p&gt;Story {i} of feed {n}: officials in Baku and Moscow discussed the release "
        f"of detained citizens, border security and transit routes.&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>https://news{n}.example.org/</link>{entries}</channel></rss>"
    ).encode()


def make_server(feeds: int, items: int) -> ThreadingHTTPServer:
    bodies = {f"/feed/{n}": feed_body(n, items) for n in range(feeds)}
    etags = {path: f'"v1-{n}"' for n, path in enumerate(bodies)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etags[self.path]:
                self.send_response(304)
                self.send_header("ETag", etags[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etags[self.path])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    return server


def poll_all(sources, states, workers: int):
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda s: s[0].fetch(s[1]), zip(sources, states)))
    return time.perf_counter() - started, results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args()

    server = make_server(args.feeds, args.items)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    http = HttpConfig(allow_private_networks=True)  # the benchmark server is on loopback
    client = HttpClient(http)
    sources = [
        make_source(
            SourceConfig(name=f"feed{n}", kind="feed", url=f"{base}/feed/{n}"),
            http,
            ".",
            client=client,
        )
        for n in range(args.feeds)
    ]

    print(
        f"{args.feeds} feeds × {args.items} items on {base}, {args.workers} workers, {os.cpu_count()} CPUs"
    )
    t1, first = poll_all(sources, [SourceState()] * args.feeds, args.workers)
    items1 = sum(len(r.items) for r in first)
    assert items1 == args.feeds * args.items, items1
    print(f"first poll : {t1:6.2f} s  {args.feeds / t1:8.0f} feeds/s  {items1 / t1:9.0f} items/s")

    t2, second = poll_all(sources, [r.state for r in first], args.workers)
    not_modified = sum(r.not_modified for r in second)
    items2 = sum(len(r.items) for r in second)
    assert not_modified == args.feeds and items2 == 0, (not_modified, items2)
    print(
        f"304 poll   : {t2:6.2f} s  {args.feeds / t2:8.0f} feeds/s  {items2 / t2:9.0f} items/s "
        f"(all {not_modified} answered 304, nothing parsed)"
    )
    print(
        f"304 cycle vs target: {t2:.2f} s / {TARGET_304_SECONDS:.0f} s = {t2 / TARGET_304_SECONDS:.3f} "
        f"({'met' if t2 < TARGET_304_SECONDS else 'MISSED'}); first/304 time ratio {t1 / t2:.1f}×"
    )
    client.close()
    server.shutdown()
    return 0 if t2 < TARGET_304_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
