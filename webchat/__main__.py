"""Serve the demo shop page, privacy notice, widget and agent console: `python -m webchat`.

A fixed table of files rather than a directory listing, so that nothing else in the
repository (or in node_modules) is ever served. The demo page and the privacy notice exist
in each language of the widget: `?lang=sv` (also sv-SE; no, nn and nb-NO are nb) picks
`index.sv.html` or `privacy.sv.html`, anything else the English page. The pages carry a
Content Security Policy that allows scripts only from this server and connections only to
the Rasa server, as a second line of defence behind the widget's text-only rendering.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

HERE = Path(__file__).resolve().parent
SOCKET_IO = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
SERVER_PLACEHOLDER = "http://localhost:5005"

# path -> (file, content type)
FILES: dict[str, tuple[Path, str]] = {
    "/": (HERE / "index.html", "text/html; charset=utf-8"),
    "/index.html": (HERE / "index.html", "text/html; charset=utf-8"),
    "/privacy": (HERE / "privacy.html", "text/html; charset=utf-8"),
    # Stand-ins for the shop pages the assistant links (the page slots in domain/shared.yml),
    # so that a link in the demo chat does not end in "Not found".
    "/account": (HERE / "shop-page.html", "text/html; charset=utf-8"),
    "/account/reset-password": (HERE / "shop-page.html", "text/html; charset=utf-8"),
    "/account/newsletter": (HERE / "shop-page.html", "text/html; charset=utf-8"),
    "/terms": (HERE / "shop-page.html", "text/html; charset=utf-8"),
    "/widget.js": (HERE / "widget.js", "text/javascript; charset=utf-8"),
    "/widget.css": (HERE / "widget.css", "text/css; charset=utf-8"),
    "/demo.css": (HERE / "demo.css", "text/css; charset=utf-8"),
    # The agent console of the handover feature (files of webchat/agent.*).
    "/agent": (HERE / "agent.html", "text/html; charset=utf-8"),
    "/agent.html": (HERE / "agent.html", "text/html; charset=utf-8"),
    "/agent.js": (HERE / "agent.js", "text/javascript; charset=utf-8"),
    "/agent.css": (HERE / "agent.css", "text/css; charset=utf-8"),
    "/vendor/socket.io.min.js": (SOCKET_IO, "text/javascript; charset=utf-8"),
    "/vendor/socket.io-client.LICENSE": (
        HERE / "node_modules" / "socket.io-client" / "LICENSE",
        "text/plain; charset=utf-8",
    ),
}

# Pages with a translation per language of the widget (webchat/<stem>.<lang>.html); the
# unsuffixed file is English. The widget asks for the privacy notice with ?lang=<code>.
TRANSLATED_PAGES = ("index.html", "privacy.html")
LANGUAGES = ("sv", "fi", "nb")

log = logging.getLogger("webchat")


def page_language(query: str) -> str | None:
    """The translation ?lang= asks for, normalised like the widget does; None for English."""
    requested = parse_qs(query).get("lang", [""])[0].strip().lower().replace("_", "-")
    code = requested.split("-", 1)[0]
    code = "nb" if code in ("no", "nn") else code
    return code if code in LANGUAGES else None


def localised(file: Path, query: str) -> Path:
    """The page in the language of ?lang=, for the pages that have translations."""
    language = page_language(query)
    if language is None or file.name not in TRANSLATED_PAGES:
        return file
    return file.with_name(f"{file.stem}.{language}{file.suffix}")


def _origin(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SystemExit(f"--server-url must be an http(s) URL, got {url!r}")
    return f"{parsed.scheme}://{parsed.netloc}"


class Handler(BaseHTTPRequestHandler):
    server_version = "webchat-demo"
    sys_version = ""

    def __init__(self, *args: object, server_url: str, **kwargs: object) -> None:
        self.server_url = server_url
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _headers(self, content_type: str, length: int) -> None:
        origin = _origin(self.server_url)
        socket_origin = origin.replace("http", "ws", 1)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {origin} {socket_origin}; frame-ancestors 'none'",
        )

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        url = urlparse(self.path)
        entry = FILES.get(url.path)
        if entry is not None:
            entry = (localised(entry[0], url.query), entry[1])
        if entry is None or not entry[0].is_file():
            body = b"Not found\n"
            if entry is not None and entry[0] == SOCKET_IO:
                body = b"socket.io client missing: run `npm ci --prefix webchat`\n"
            self.send_response(HTTPStatus.NOT_FOUND)
            self._headers("text/plain; charset=utf-8", len(body))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        file, content_type = entry
        data = file.read_bytes()
        if file.suffix == ".html":
            data = data.replace(SERVER_PLACEHOLDER.encode(), self.server_url.encode())
        self.send_response(HTTPStatus.OK)
        self._headers(content_type, len(data))
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webchat", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("WEBCHAT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEBCHAT_PORT", "8080")))
    parser.add_argument(
        "--server-url",
        default=os.environ.get("WEBCHAT_SERVER_URL", SERVER_PLACEHOLDER),
        help="the Rasa server the widget connects to (default %(default)s)",
    )
    args = parser.parse_args(argv)
    _origin(args.server_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s webchat %(message)s")
    if not SOCKET_IO.is_file():
        log.warning("socket.io client missing: run `npm ci --prefix webchat`")
    handler = partial(Handler, server_url=args.server_url.rstrip("/"))
    httpd = ThreadingHTTPServer((args.host, args.port), handler)
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host  # noqa: S104
    print(f"Demo shop with the chat widget: http://{shown}:{args.port}/", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
