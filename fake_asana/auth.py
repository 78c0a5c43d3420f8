"""Bearer tokens and the OAuth refresh grant (https://developers.asana.com/docs/oauth).
The PAT never expires; access tokens from `POST /-/oauth_token` expire after `token_ttl`
seconds."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import parse_qs, unquote

from .errors import NOT_AUTHORIZED, TOKEN_EXPIRED, ApiError
from .options import Options
from .store import Store


class Auth:
    def __init__(self, options: Options, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.options, self.store, self._clock = options, store, clock
        self._expiry: Dict[str, float] = {}  # access token -> when it stops working
        self._lock = threading.Lock()

    @staticmethod
    def bearer(header: Optional[str]) -> Optional[str]:
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def authenticate(self, header: Optional[str]) -> str:
        """The user gid a request acts as; 401 otherwise. The service account sees what "me"
        sees (`service_account` tells the two apart)."""
        token = self.bearer(header)
        if token is None:
            raise ApiError(401, NOT_AUTHORIZED)
        if secrets.compare_digest(token, self.options.pat) or self.service_account(header):
            return self.store.me
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            raise ApiError(401, NOT_AUTHORIZED)
        if self._clock() >= expiry:
            raise ApiError(401, TOKEN_EXPIRED)
        return self.store.me

    def service_account(self, header: Optional[str]) -> bool:
        """Whether the request carries the token of the organization's service account."""
        token = self.bearer(header)
        return token is not None and secrets.compare_digest(token, self.options.service_account_token)

    def credentials(self) -> Dict[str, str]:
        return {"client_id": self.options.client_id, "client_secret": self.options.client_secret,
                "refresh_token": self.options.refresh_token}

    def token_endpoint(self, body: bytes, content_type: str, authorization: Optional[str]) -> Tuple[int, Dict[str, Any]]:
        """`POST /-/oauth_token`: form-encoded (or JSON) refresh grant; client credentials
        in the form or as HTTP Basic auth, as OAuth clients send them either way."""
        form = self._form(body, content_type)
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = (authorization or "").strip()
        if basic.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
                client_id, client_secret = client_id or unquote(user), client_secret or unquote(password)
            except ValueError:
                pass
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "grant_type must be refresh_token on this server."}
        if not (secrets.compare_digest(client_id, self.options.client_id)
                and secrets.compare_digest(client_secret, self.options.client_secret)):
            return 401, {"error": "invalid_client", "error_description": "The client credentials are invalid."}
        if not secrets.compare_digest(form.get("refresh_token", ""), self.options.refresh_token):
            return 400, {"error": "invalid_grant",
                         "error_description": "The `refresh_token` is invalid, expired or revoked."}
        token = "fake-oauth-" + secrets.token_hex(16)
        ttl = self.options.token_ttl
        with self._lock:
            self._expiry[token] = self._clock() + ttl
        me = self.store.records[self.store.me]
        return 200, {"access_token": token, "token_type": "bearer",
                     "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
                     "data": {"id": me["gid"], "gid": me["gid"], "name": me["name"], "email": me["email"]}}

    @staticmethod
    def _form(body: bytes, content_type: str) -> Dict[str, str]:
        text = body.decode("utf-8", "replace")
        if "json" in content_type:
            try:
                data = json.loads(text or "{}")
                return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
            except ValueError:
                return {}
        return {k: v[0] for k, v in parse_qs(text).items()}
