"""Serve a folder over http://127.0.0.1 the way a static host does, Range requests included."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

# Fixed types, so the answers do not depend on the machine's /etc/mime.types.
MIME_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".ico": "image/x-icon", ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm",
    ".vtt": "text/vtt; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2", ".wasm": "application/wasm", ".zip": "application/zip",
}
RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
UNSATISFIABLE = "unsatisfiable"


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """Return the inclusive (start, end) a Range header asks for, None to send the whole file, or UNSATISFIABLE."""
    m = RANGE.match(header or "")
    if not m or not any(m.groups()):  # several ranges or other units: ignoring Range is allowed (RFC 9110)
        return None
    first, last = m.groups()
    if not first:  # suffix range: the last N bytes
        return (max(0, size - int(last)), size - 1) if int(last) and size else UNSATISFIABLE
    start, end = int(first), int(last) if last else size - 1
    if start >= size:
        return UNSATISFIABLE
    return None if end < start else (start, min(end, size - 1))


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """The standard library's file handler, quiet and uncached, plus single byte ranges (206, 416).

    Chromium fetches media with Range requests and cannot seek (or, for some files, play) without
    206 answers; everything else (directories, redirects, 404) is the standard library's.
    """

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def log_message(self, format, *args):  # noqa: A002 - the signature is the standard library's
        """Log nothing: test output stays readable."""

    def end_headers(self):
        """Advertise ranges and forbid caching on every answer, then end the headers."""
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")  # a rebuilt site must never be served from cache
        super().end_headers()

    def send_head(self):
        """Answer a Range request for a file with 206 or 416; leave everything else to the standard library."""
        self.range_length = None
        path = self.translate_path(self.path)
        if "Range" not in self.headers or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        wanted = byte_range(self.headers["Range"], size)
        if wanted is None:
            return super().send_head()
        if wanted == UNSATISFIABLE:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = wanted
        source = open(path, "rb")
        source.seek(start)
        self.range_length = end - start + 1
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(self.range_length))
        self.send_header("Last-Modified", self.date_time_string(os.fstat(source.fileno()).st_mtime))
        self.end_headers()
        return source

    def copyfile(self, source, outputfile):
        """Copy the whole file, or only the range's bytes after a 206."""
        remaining = self.range_length
        if remaining is None:
            return super().copyfile(source, outputfile)
        while remaining > 0 and (chunk := source.read(min(64 * 1024, remaining))):
            outputfile.write(chunk)
            remaining -= len(chunk)


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded server that does not print the aborted downloads a browser makes all the time."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        """Ignore a client hanging up (a browser aborting a media download); report anything else."""
        if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
            return
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve_directory(path: str | os.PathLike) -> Iterator[str]:
    """Serve `path` on http://127.0.0.1:<free port>/ from a background thread; yield the base URL (ending in "/")."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise NotADirectoryError(root)
    server = QuietServer(("127.0.0.1", 0), functools.partial(RangeRequestHandler, directory=str(root)))
    # serve_forever checks for shutdown every poll_interval (0.5 s by default): a short one ends the block at once.
    thread = threading.Thread(target=functools.partial(server.serve_forever, poll_interval=0.02), name=f"serve {root}",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def file_url(path: str | os.PathLike) -> str:
    """Return the file:// URL of a local path."""
    return Path(path).resolve().as_uri()
