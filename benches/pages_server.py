#!/usr/bin/env python3
"""Serves a folder of pages on loopback for benches/compare-urlwatch.sh.

Answers conditional requests (If-None-Match with an ETag from the file's
mtime and size, If-Modified-Since) with 304, as learn.microsoft.com does, so
both tools can show what an unchanged page costs. Binds 127.0.0.1 only and
exits by itself after --lifetime seconds.
"""
import argparse
import email.utils
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without this, Nagle's
    # algorithm and delayed ACKs add 40 ms to every kept-alive request.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.translate_path(self.path)
        try:
            st = os.stat(path)
        except OSError:
            self.send_error(404)
            return
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        since = self.headers.get("If-Modified-Since")
        if self.headers.get("If-None-Match") == etag or (
            since and not self.headers.get("If-None-Match") and since == modified
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lifetime", type=int, default=1800)
    args = parser.parse_args()
    os.chdir(args.dir)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
