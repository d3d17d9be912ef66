#!/usr/bin/env python3
"""Serves a folder of pages on loopback for benches/compare-urlwatch.sh.

Answers conditional requests (If-None-Match with an ETag from the file's
mtime and size, If-Modified-Since) with 304, as learn.microsoft.com does, so
both tools can show what an unchanged page costs. Binds 127.0.0.1 only and
exits by itself after --lifetime seconds.

Why not http.server: its thread per connection and line-by-line header
parsing cost about 160 microseconds a request, so 1,000 pages took 0.2 s of
server time alone, as long as the fastest client could hope for. The
benchmark then measured the server. This one is a single asyncio loop that
keeps each file's response in memory until the file changes (checked with a
stat per request), at a few tens of microseconds a request.
"""
import argparse
import asyncio
import email.utils
import os

# path -> (mtime_ns, size, etag, 200 response, 304 response, Last-Modified)
CACHE = {}


def responses(path):
    st = os.stat(path)
    hit = CACHE.get(path)
    if hit and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        return hit
    with open(path, "rb") as f:
        body = f.read()
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
    modified = email.utils.formatdate(st.st_mtime, usegmt=True)
    ok = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"ETag: {etag}\r\n"
        f"Last-Modified: {modified}\r\n\r\n"
    ).encode() + body
    not_modified = (
        f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    CACHE[path] = (st.st_mtime_ns, st.st_size, etag, ok, not_modified, modified)
    return CACHE[path]


NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; GET without a body is all both tools send."""

    def __init__(self, root):
        self.root = root
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self.transport.write(BAD)
                    self.transport.close()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            self.transport.write(self.answer(head))

    def answer(self, head):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            return BAD
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        name = parts[1].split("?", 1)[0].lstrip("/")
        if "/" in name or name.startswith("."):
            return NOT_FOUND
        try:
            _, _, etag, ok, not_modified, modified = responses(os.path.join(self.root, name))
        except OSError:
            return NOT_FOUND
        tag = headers.get("if-none-match")
        since = headers.get("if-modified-since")
        if tag == etag or (tag is None and since == modified):
            return not_modified
        return ok


async def serve(root, port, lifetime):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Http(root), "127.0.0.1", port)
    async with server:
        await asyncio.sleep(lifetime)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lifetime", type=int, default=1800)
    args = parser.parse_args()
    asyncio.run(serve(os.path.abspath(args.dir), args.port, args.lifetime))


if __name__ == "__main__":
    main()
