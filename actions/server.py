"""`python -m actions.server [--host H] [--port P]`: the action server, authenticated.

rasa-sdk 3.6 runs any action for anyone who can reach `/webhook`: a direct POST could
put text of the caller's choosing into the handover queue for any conversation, or look
orders up without the chat's rate limits. This entry point builds the same Sanic app as
`rasa run actions` and adds one check in front of every route but `/health`: the request
must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`, which Rasa sends from the
`headers` of `action_endpoint` in endpoints.yml. Anything else gets 401 and runs nothing.

rasa-sdk imports every module of the `actions` package, this one included, to find
actions: nothing here may do anything at import time.
"""

from __future__ import annotations

import argparse
import gc
import hmac
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app as create_sdk_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import SettingsError, load_settings, server_settings_from_env

logger = logging.getLogger(__name__)

#: Load balancers and start-up scripts poll this without credentials; it reveals nothing.
OPEN_PATHS = frozenset({"/health"})
DEFAULT_PORT = 5055


def is_authorised(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token`, compared in constant time."""
    scheme, _, presented = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def require_token(app: Sanic, token: str) -> None:
    """Refuse every request without the shared secret before any route runs."""

    @app.middleware("request")
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or is_authorised(request.headers.get("authorization"), token):
            return None
        logger.warning("refused a %s %s without a valid token", request.method, request.path)
        return response.json({"error": "unauthorized"}, status=401)


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's app, token-protected and without CORS: no browser ever calls it."""
    app = create_sdk_app(actions_package, cors_origins="")
    require_token(app, token)

    @app.listener("after_server_start")
    async def freeze_loaded_objects(_app: Sanic, _loop: object) -> None:
        # The actions, their settings and clients live as long as the process: out of
        # the full collections, which took up to 86 ms of this server's loop under load
        # (channels/webchat.py freeze_loaded_objects says more).
        gc.collect()
        gc.freeze()

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 when Rasa runs elsewhere)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--actions", default="actions", help="package to load actions from")
    args = parser.parse_args(argv)

    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    try:
        token = server_settings_from_env(os.environ).token
        load_settings()  # service URLs and timeouts: a bad value stops the start, not a turn
    except SettingsError as exc:
        print(f"action server not started: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    app = create_app(token, args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("action server on http://%s:%d (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
