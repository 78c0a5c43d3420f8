"""Asana's error bodies and messages (https://developers.asana.com/docs/errors)."""
from __future__ import annotations

from typing import Any, Dict, Optional

HELP = ("For more information on API status codes and how to handle them, read the docs on errors: "
        "https://developers.asana.com/docs/errors")
RATE_LIMITED = "You've made too many requests and hit a rate limit. Please retry after the given amount of time."
NOT_AUTHORIZED = "Not Authorized"
TOKEN_EXPIRED = ("The bearer token has expired. If you have a refresh token, please use it to request a new "
                 "access token, otherwise please start the authorization process again.")
PREMIUM_ONLY = "This feature is only available to premium organizations and workspaces."
TOO_LARGE = "The result is too large. You should use pagination (may require specifying a workspace)!"
LIMIT_RANGE = "limit: The value must be between 1 and 100"
OFFSET_EXPIRED = "offset: Your pagination token has expired."
OFFSET_INVALID = "offset: Not a valid offset"
TASK_FILTER = "Must specify exactly one of project, tag, section, user task list, or assignee + workspace"
NO_ROUTE = "No matching route for request"
FORBIDDEN = "Forbidden"
MULTI_WORKSPACE = "This request accesses data in multiple workspaces. Please specify a workspace or team."
SYNC_INVALID = ("Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch "
                "the full dataset for this query now and use the new sync token for the next sync.")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Optional[Dict[str, str]] = None,
                 phrase: Optional[str] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.phrase = status, message, headers or {}, phrase

    def body(self) -> Dict[str, Any]:
        return error_body(self.message, self.phrase)


def error_body(message: str, phrase: Optional[str] = None) -> Dict[str, Any]:
    error: Dict[str, Any] = {"message": message, "help": HELP}
    if phrase:
        error["phrase"] = phrase  # Asana adds a phrase to 500s only
    return {"errors": [error]}


def not_found(param: str, gid: str) -> ApiError:
    return ApiError(404, f"{param}: Not a recognized ID: {gid}")


def bad_param(param: str, problem: str) -> ApiError:
    return ApiError(400, f"{param}: {problem}")
