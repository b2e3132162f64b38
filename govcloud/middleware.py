"""Request-wide concerns: security headers, audit context and the two-factor gate."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.defaults import page_not_found

from govcloud.audit import RequestContext, reset_request_context, set_request_context

logger = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.REQUEST_MAX_BYTES
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    message = f"提交的内容过大（上限 {size}），未做任何处理。请压缩或拆分附件后重试。"
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": message, "extra": {"limit_bytes": limit}},
            status=413,
            json_dumps_params={"ensure_ascii": False},
        )
    return HttpResponse(
        f'<!doctype html><html lang="zh-hans"><meta charset="utf-8"><title>413</title>'
        f'<p>{message}</p><p><a href="javascript:history.back()">返回</a></p></html>',
        status=413,
        content_type="text/html; charset=utf-8",
    )


class RequestSizeLimitMiddleware:
    """Refuse a body larger than ``REQUEST_MAX_BYTES`` by its ``Content-Length``, unread (413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            return _too_large(request)
        return self.get_response(request)


class RequestSizeUploadHandler(FileUploadHandler):
    """Counts the bytes of every file in a multipart body as they stream in and stops the
    request once they pass ``REQUEST_MAX_BYTES`` (for a body sent without a Content-Length)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.REQUEST_MAX_BYTES:
            raise RequestDataTooBig("上传文件超过上限。")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


#: The integers the database stores (BigAutoField keys, every id in a query): beyond them a
#: query parameter is refused before it reaches a filter, naming the parameter.
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"^[+-]?\d+$")
_API_MESSAGES = {
    400: "请求有误。",
    401: "需要登录或有效的访问令牌。",
    403: "无权执行此操作。",
    404: "接口或对象不存在。",
    405: "不支持该请求方法。",
    413: "提交的内容过大。",
    500: "服务器内部错误，请稍后再试；问题已记录。",
}


def _api_error(status: int, message: str, **extra: object) -> JsonResponse:
    return JsonResponse(
        {"message": message, "extra": extra},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class ApiErrorsMiddleware:
    """Under ``/api/`` every answer is JSON in the one error shape, whoever produced it.

    Django's own 404 (an unknown URL), 405, CSRF 403 and 500 pages are HTML; the REST views
    already answer ``{"message", "extra"}``. This turns the others into that shape with their
    status, and refuses a query parameter holding an integer no database column can hold (a
    500 from the driver otherwise), or given more than once, with 400 naming the parameter.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        for name, values in request.GET.lists():
            if len(values) > 1:
                # No API parameter is a repeated one (lists are comma-separated, e.g.
                # ``ordering=a,b``): which value would count is a guess, so none does.
                return _api_error(400, f"查询参数 {name} 只能给出一次。", field=name)
            for value in values:
                digits = value.strip().lstrip("+-").lstrip("0") or "0"
                # Length first: int() refuses strings of thousands of digits (ValueError).
                if _INTEGER.match(value.strip()) and (len(digits) > 19 or int(digits) > INT64_MAX):
                    return _api_error(
                        400,
                        f"查询参数 {name} 超出范围：{value[:40]}",
                        field=name,
                    )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            status = response.status_code
            return _api_error(status, _API_MESSAGES.get(status, "请求未能处理。"))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        logger.exception("API request failed: %s %s", request.method, request.path)
        return _api_error(500, _API_MESSAGES[500])


class ContentSecurityPolicyMiddleware:
    """A strict CSP on every response: no inline scripts or styles, nothing from elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def forwarded_client(
    remote_addr: str,
    forwarded_for: str,
    *,
    trusted: Sequence[IPNetwork] = (),
    count: int = 0,
) -> str | None:
    """The client's address behind trusted proxies: the right-most *untrusted* hop.

    The hops are ``X-Forwarded-For`` (left to right, as each proxy appended what it saw) and
    the peer itself (``REMOTE_ADDR``). Walking from the right, a hop is skipped while it is a
    trusted proxy — inside one of the ``trusted`` networks, or one of the last ``count`` hops.
    Only the entries the trusted proxies appended can be believed: anything further left came
    from the client and is ignored (a leftmost entry is whatever the client wrote). A malformed
    entry ends the walk at the trusted hop that received it.
    """
    hops = [h for h in (forwarded_for or "").split(",") if h.strip()]
    peer = _address(remote_addr or "")
    if peer is None:
        return None
    chain = [*hops, str(peer)]
    client = peer
    for position, hop in enumerate(reversed(chain)):
        address = _address(hop)
        if address is None:
            break
        client = address
        by_count = position < count
        by_network = any(address in network for network in trusted)
        if not (by_count or by_network):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the audit trail and the login lockout (``AXES_CLIENT_IP_CALLABLE``):
    ``REMOTE_ADDR``, or behind the proxies named in ``TRUSTED_PROXIES`` / ``TRUSTED_PROXY_COUNT``
    the right-most untrusted ``X-Forwarded-For`` entry (``forwarded_client``)."""
    return forwarded_client(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted=settings.TRUSTED_PROXY_NETWORKS,
        count=settings.TRUSTED_PROXY_COUNT,
    )


class RequestContextMiddleware:
    """Makes the client's IP available to the audit trail for the length of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_context(RequestContext(ip_address=client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            reset_request_context(token)


# Only what it takes to sign in and pass the second factor. Everything else after the password —
# changing the password included — needs the second factor first (等保: 双因素认证).
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/2fa/",
    "/static/",
    "/favicon.ico",
    "/i18n/",
    "/healthz",
)


class RequireTwoFactorMiddleware:
    """Party staff (bureau, vendor, supervisor, auditor) must pass TOTP before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.requires_two_factor
            and not user.is_verified()
            and not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"message": "需要先完成双因素认证。", "extra": {}}, status=403)
            return redirect(f"{reverse('two_factor_verify')}?next={request.get_full_path()}")
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """What a signed-in user sees (pages, PDFs, API answers) stays out of shared and browser
    caches: a statement opened on a shared workstation must not be recoverable after logout."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose English (language cookie), whatever the browser asks.

    Many workstations in government networks run English-language browsers; the product's
    language is Chinese, so Accept-Language is not consulted.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class PortalNotFoundMiddleware:
    """The portal's own 404 page, also with DEBUG on.

    With DEBUG (the demo, development) Django answers an unknown URL or an object outside the
    user's scope with its English technical page that lists every URL of the site; people
    trying the demo must see what production shows. ``/api/`` keeps its JSON answer
    (``ApiErrorsMiddleware``); a 500 under DEBUG keeps the traceback developers need.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not request.path.startswith("/api/")
            and not _resolves(request)
        ):
            # An unknown URL never reaches a view: Django rendered its technical page.
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        api = request.path.startswith("/api/")
        if settings.DEBUG and isinstance(exception, Http404) and not api:
            return page_not_found(request, exception)
        return None


def _resolves(request: HttpRequest) -> bool:
    try:
        resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return True
