"""The admin site in Chinese: every page a superuser opens, the third-party apps (django-axes,
django-otp) included; the audit log's action codes and object types under Chinese labels; the
outbox readable. Codes stay the data: only what people read changes."""

from __future__ import annotations

import ast
import importlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst

from govcloud.audit import audit_log
from govcloud.audit_labels import ADMIN_VERBS, action_label, object_type_label
from govcloud.models import AuditEvent, OrganizationKind, OutboxEmail
from tests.conftest import verified_client
from tests.factories import OrganizationFactory, UserFactory, make_totp
from tests.govcloud.test_admin_matrix import _objects

ROOT = Path(__file__).resolve().parents[2]
APPS = ("govcloud", "billing", "requests_app", "sla")
THIRD_PARTY = ("axes", "otp_totp")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Latin words a Chinese label may contain: technical names people use as they are.
TECHNICAL = {"API", "IP", "HTTP", "Accept", "GET", "POST", "TOTP", "Unix", "Message", "ID"}
TECHNICAL |= {"chinesecalendar", "CSV", "PDF", "SLA", "vCPU", "CPU", "GB", "TB", "URL"}
#: English of the third-party admins that does not come from a model (sections, columns,
#: filters, actions) and of Django's admin where its Chinese catalogue has gaps.
ENGLISH_CHROME = [
    "Form Data",
    "Meta Data",
    "Identity",
    "Timestamps",
    "Configuration",
    "Throttling",
    "QR Code",
    "Locked Out",
    "Attempt Remaining",
    "Not set",
    "Clean up expired attempts",
    "Search by user",
    "Model name",
    "Add link",
    "Change or view list link",
    "After you",
]


def latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z_]*", text)) - TECHNICAL


# ------------------------------------------------------------------- action codes in the code


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _params(fn) -> tuple[list[str], list[str]]:
    args = fn.args
    return [a.arg for a in args.posonlyargs + args.args], [a.arg for a in args.kwonlyargs]


def _action_argument(call: ast.Call, writers: dict) -> tuple[ast.expr, str] | None:
    """The expression a call passes as the action, and the template it is written through."""
    name = _call_name(call)
    if name == "audit_log":
        keyword = next((k.value for k in call.keywords if k.arg == "action"), None)
        return (keyword, "{}") if keyword is not None else None
    if name in writers:
        param, index, template = writers[name]
        for k in call.keywords:
            if k.arg == param:
                return k.value, template
        if index is not None and index < len(call.args):
            return call.args[index], template
    return None


def _template(expr: ast.expr, param: str) -> str | None:
    """How a function parameter becomes the action (``"{}"``, ``"invoice.{}"``), if it does."""
    if isinstance(expr, ast.Name) and expr.id == param:
        return "{}"
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for value in expr.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value.replace("{", "{{").replace("}", "}}"))
            elif isinstance(value.value, ast.Name) and value.value.id == param:
                parts.append("{}")
            else:
                return None
        return "".join(parts)
    if isinstance(expr, ast.BoolOp):
        return next(filter(None, (_template(v, param) for v in expr.values)), None)
    if isinstance(expr, ast.IfExp):
        return _template(expr.body, param) or _template(expr.orelse, param)
    return None


def _writers(trees) -> dict[str, tuple[str, int | None, str]]:
    """Functions that write the action a parameter names (``_audit(actor, action, …)``)."""
    writers: dict[str, tuple[str, int | None, str]] = {}
    changed = True
    while changed:
        changed = False
        for _path, tree in trees:
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.name in writers:
                    continue
                positional, keyword_only = _params(fn)
                for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                    found = _action_argument(call, writers)
                    if found is None:
                        continue
                    expr, outer = found
                    for param in positional + keyword_only:
                        inner = _template(expr, param)
                        if inner is None:
                            continue
                        index = positional.index(param) if param in positional else None
                        if index is not None and positional[0] in ("self", "cls"):
                            index -= 1
                        writers[fn.name] = (param, index, outer.replace("{}", inner, 1))
                        changed = True
                        break
                    if fn.name in writers:
                        break
    return writers


def _local_values(fn, name: str) -> list[ast.expr]:
    return [
        node.value
        for node in ast.walk(fn)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]


def _values(expr, *, params, module, fn) -> tuple[set[str], list[str]]:
    """The codes an expression can be, and what could not be resolved."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}, []
    parts: list[ast.expr] = []
    if isinstance(expr, ast.IfExp):
        parts = [expr.body, expr.orelse]
    elif isinstance(expr, ast.BoolOp):
        parts = list(expr.values)
    elif isinstance(expr, ast.Name) and expr.id in params:
        return set(), []  # a writer's own parameter: its callers are resolved instead
    elif isinstance(expr, ast.JoinedStr) and all(
        isinstance(v, ast.Constant) or (isinstance(v.value, ast.Name) and v.value.id in params)
        for v in expr.values
    ):
        return set(), []
    elif isinstance(expr, ast.Name) and fn is not None and _local_values(fn, expr.id):
        parts = _local_values(fn, expr.id)
    elif isinstance(expr, ast.Name | ast.Attribute):
        namespace = vars(importlib.import_module(module))
        try:
            value = eval(compile(ast.Expression(expr), module, "eval"), namespace)  # noqa: S307
        except (AttributeError, NameError):
            value = None
        if isinstance(value, str):
            return {str(value)}, []
    codes: set[str] = set()
    unresolved: list[str] = [] if parts else [ast.unparse(expr)]
    for part in parts:
        found, missing = _values(part, params=params, module=module, fn=fn)
        codes |= found
        unresolved += missing
    return codes, unresolved


def _admin_saves(expr: ast.expr) -> set[str] | None:
    """The admin's generic saves (``<model>.admin_<verb>``): the verbs, or None."""
    if isinstance(expr, ast.Call) and _call_name(expr) == "_action":
        verbs = set()
        for node in ast.walk(expr.args[0]):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                verbs.add(f"admin_{node.value}")
        return verbs
    if isinstance(expr, ast.JoinedStr) and isinstance(expr.values[0], ast.FormattedValue):
        rest = "".join(v.value for v in expr.values[1:] if isinstance(v, ast.Constant))
        if len(expr.values) == 2 and rest.startswith(".admin_"):
            return {rest[1:]}
    return None


def written_action_codes() -> tuple[set[str], set[str], list[str]]:
    """Every action code the code base writes: (codes, admin-save verbs, unresolved)."""
    trees = list(_sources())
    writers = _writers(trees)
    codes: set[str] = set()
    admin_verbs: set[str] = set()
    unresolved: list[str] = []
    for path, tree in trees:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")

        def visit(node, params, fn, path=path, module=module):
            for child in ast.iter_child_nodes(node):
                child_params, child_fn = params, fn
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    positional, keyword_only = _params(child)
                    child_params, child_fn = {*positional, *keyword_only}, child
                if isinstance(child, ast.Call) and (found := _action_argument(child, writers)):
                    expr, template = found
                    verbs = _admin_saves(expr)
                    if verbs is not None:
                        admin_verbs.update(verbs)
                    else:
                        found_codes, missing = _values(
                            expr, params=child_params, module=module, fn=child_fn
                        )
                        codes.update(template.format(code) for code in found_codes)
                        where = f"{path.relative_to(ROOT)}:{child.lineno}"
                        unresolved.extend(f"{where}: {m}" for m in missing)
                visit(child, child_params, child_fn)

        visit(tree, set(), None)
    return codes, admin_verbs, unresolved


def is_chinese_label(label: str) -> bool:
    return bool(CJK.search(label)) and not latin_words(label)


def test_the_code_scan_finds_what_it_should():
    """The scan itself: literal codes, codes through wrappers and f-strings, enum members."""
    codes, admin_verbs, unresolved = written_action_codes()
    assert not unresolved, "action codes the scan cannot resolve:\n" + "\n".join(unresolved)
    assert {
        "auth.login",  # audit_log(action="…")
        "statement.escalate",  # a service's _audit(actor, "…", …)
        "statement.supersede",  # a local variable assigned in branches
        "request.returned",  # f"request.{decision}" with an enum member
        "test_period.extend",  # f"test_period.{kind}"
        "invoice.confirm",
        "admin.forbidden_attempt",  # a module constant
    } <= codes
    assert admin_verbs == set(ADMIN_VERBS)
    assert len(codes) > 150


def test_every_action_code_written_has_a_chinese_label():
    codes, _verbs, _unresolved = written_action_codes()
    unlabelled = sorted(code for code in codes if not is_chinese_label(action_label(code)))
    assert not unlabelled, f"action codes without a Chinese label: {unlabelled}"


def test_the_admins_own_saves_are_labelled_by_model():
    """``<model>.admin_<verb>`` for every model the admin saves, inlines included."""
    prefixes = set()
    for model, model_admin in admin.site._registry.items():
        prefixes.add(getattr(model_admin, "audit_action_prefix", "") or model._meta.model_name)
        prefixes.update(inline.model._meta.model_name for inline in model_admin.inlines)
    missing = sorted(
        f"{prefix}.{verb}"
        for prefix in prefixes
        for verb in ADMIN_VERBS
        if not is_chinese_label(action_label(f"{prefix}.{verb}"))
    )
    assert not missing, f"admin saves without a Chinese label: {missing}"
    assert action_label("user.admin_create") == "后台新增：用户"


def test_every_object_type_has_a_chinese_label():
    models = [m for m in apps.get_models() if m._meta.app_label in APPS + THIRD_PARTY]
    unlabelled = sorted(
        m._meta.label_lower
        for m in models
        if not is_chinese_label(object_type_label(m._meta.label_lower))
    )
    assert not unlabelled, f"object types without a Chinese label: {unlabelled}"
    assert object_type_label("govcloud.user") == "用户"
    assert object_type_label("no.such") == "no.such"  # an unknown code is shown as it is


def test_an_unknown_code_is_shown_as_it_is():
    assert action_label("nobody.wrote_this") == "nobody.wrote_this"


# ------------------------------------------------------------------------ the pages themselves


class _VisibleText(HTMLParser):
    """What a reader sees (and hears): text, titles, placeholders, labels — not values."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def _declared_english() -> set[str]:
    """What the pages showed in English: the third-party apps' declared names, as the admin
    writes them (capitalised), and their help texts."""
    phrases = set(ENGLISH_CHROME)
    for config in apps.get_app_configs():
        if config.label not in THIRD_PARTY:
            continue
        phrases.add(config.label.title())
        for model in config.get_models():
            for option in ("verbose_name", "verbose_name_plural"):
                declared = model._meta.original_attrs.get(option)
                if declared:
                    phrases |= {str(declared), capfirst(str(declared))}
            for field in model._meta.get_fields():
                if not hasattr(field, "_verbose_name"):
                    continue
                declared = field._verbose_name or field.name.replace("_", " ")
                phrases.add(capfirst(str(declared)))
                if field.help_text:
                    phrases.add(str(field.help_text))
    return {p for p in phrases if latin_words(p)}


@pytest.fixture
def superuser_client(db):
    platform = OrganizationFactory(kind=OrganizationKind.PLATFORM)
    user = UserFactory(organization=platform, is_superuser=True, is_staff=True)
    make_totp(user)
    return verified_client(user)


def _url(model, name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)
    except NoReverseMatch:
        return None


@pytest.mark.django_db
def test_every_admin_page_is_chinese(world, superuser_client):
    """The index, every changelist, every add page and a change page of each model with an
    object, as the superuser (who sees them all): no English name of an app, a model, a field,
    a section or an action, no raw action code or object type."""
    objects = _objects(world)
    audit_log(actor=world.users["bureau"], action="statement.escalate", obj=world.contract)
    audit_log(actor=world.users["bureau"], action="auth.login", obj=world.users["bureau"])
    codes = set(AuditEvent.objects.values_list("action", flat=True))
    codes |= set(AuditEvent.objects.exclude(object_type="").values_list("object_type", flat=True))
    codes.discard("x.test")  # the matrix's own unlabelled code: shown as it is
    english = _declared_english()
    assert {"Axes", "Access attempts", "Otp_Totp", "User Agent"} <= english  # the scan sees them

    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        pages += [_url(model, "changelist"), _url(model, "add")]
        obj = objects.get(model._meta.label_lower)
        if obj is not None:
            pages.append(_url(model, "change", obj.pk))
    problems = []
    opened = 0
    for url in filter(None, pages):
        response = superuser_client.get(url, follow=True)  # API tokens: add → issue page
        if response.status_code == 403 and url.endswith("/add/"):
            continue  # records only services write
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}")
            continue
        opened += 1
        text = visible_text(response.content.decode())
        found = [p for p in english if re.search(rf"(?<![A-Za-z]){re.escape(p)}(?![A-Za-z])", text)]
        found += [code for code in codes if code in text]
        if found:
            problems.append(f"{url}: {sorted(found)}")
    assert opened > 60
    assert not problems, "English on admin pages:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_audit_log_shows_labels_and_filters_by_them(world, superuser_client):
    audit_log(actor=world.users["bureau"], action="statement.escalate", obj=world.contract)
    url = reverse("admin:govcloud_auditevent_changelist")

    page = superuser_client.get(url).content.decode()
    text = visible_text(page)
    assert "统计表争议提交审计裁定" in text
    assert "合同" in text  # the object type govcloud.contract
    assert "statement.escalate" not in text
    assert 'data-code="statement.escalate"' in page  # the code is still in the markup

    filtered = superuser_client.get(url, {"action": "statement.escalate"}).content.decode()
    assert "统计表争议提交审计裁定" in visible_text(filtered)
    by_label = superuser_client.get(url, {"q": "审计裁定"}).context["cl"].result_list
    assert [e.action for e in by_label] == ["statement.escalate"]


@pytest.mark.django_db
def test_lockouts_are_chinese(world, superuser_client):
    attempt = AccessAttempt.objects.create(
        username=world.users["department"].username,
        ip_address="10.1.2.3",
        user_agent="浏览器",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    changelist = visible_text(
        superuser_client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    )
    assert "登录锁定记录" in changelist
    assert "已锁定" in changelist
    assert "连续失败次数" in changelist
    delete = superuser_client.get(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]))
    assert f"{attempt.username} 的登录失败" in visible_text(delete.content.decode())


@pytest.mark.django_db
def test_outbox_is_readable(world, superuser_client):
    row = OutboxEmail.objects.create(
        key="t:1",
        recipient="bureau@example.test",
        subject="【政务云】统计表已签认",
        body="第一行\n第二行 <b>不是标签</b>",
        attachments=[
            {"name": "月度服务资源统计表.pdf", "path": "s/1.pdf", "mimetype": "application/pdf"},
            {"name": "签名.p7s", "path": "s/1.p7s", "mimetype": ""},
        ],
        contract=world.contract,
    )
    page = superuser_client.get(reverse("admin:govcloud_outboxemail_change", args=[row.pk]))
    html = page.content.decode()
    assert '<pre class="literal-block">第一行\n第二行 &lt;b&gt;不是标签&lt;/b&gt;</pre>' in html
    assert "<li>月度服务资源统计表.pdf</li><li>签名.p7s</li>" in html
    text = visible_text(html)
    assert "待发送" in text
    assert "mimetype" not in text
    assert "s/1.pdf" not in text
    listing = superuser_client.get(reverse("admin:govcloud_outboxemail_changelist"))
    assert "附件数" in visible_text(listing.content.decode())
    assert superuser_client.get(reverse("admin:govcloud_outboxemail_add")).status_code == 403
