# ruff: noqa: S105, S310, S603, S607 - a local benchmark: its own password, psql, gunicorn, URLs
"""Benchmark: a burst of logins against gunicorn + PostgreSQL, PBKDF2 vs Argon2id, one run.

The working day starts: 50 department users log in within 5 seconds while 10 colleagues who
are already signed in keep loading pages. Each hasher gets its own throwaway PostgreSQL
database (users created with that hasher), a gunicorn with ``--workers`` gthread workers, and
the same burst from plain threads (``urllib``, a cookie jar each: GET the login page for the
CSRF token, POST the password). Prints p50/p95 of the logins and of the pages under load, then
one line per hasher:

    RESULT login_burst hasher=<h> logins=50 login_p95_s=<s> page_p95_ms=<ms> errors=<n>

    .venv/bin/python benchmarks/login_burst.py [--users 50] [--window 5] [--workers 3]
        [--hashers pbkdf2,argon2] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

Needs PostgreSQL (the admin URL may create databases) and nothing else; ~1 minute.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PASSWORD = "Bench-Login-2026"
HASHERS = {
    "pbkdf2": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "argon2": "govcloud.hashers.Argon2idHasher",
}
SETTINGS = """\
from govcloud.settings import *  # noqa: F403
import os
PASSWORD_HASHERS = [os.environ["BENCH_HASHER"]]
"""
SEED = """\
from govcloud.models import Organization, OrganizationKind, User, Role
from django.contrib.auth.hashers import make_password
bureau, _ = Organization.objects.get_or_create(name="基准测试局", defaults={{"kind": "bureau"}})
dept, _ = Organization.objects.get_or_create(
    name="基准测试单位", defaults={{"kind": OrganizationKind.DEPARTMENT, "parent": bureau}}
)
for n in range({n}):
    user, _ = User.objects.get_or_create(
        username=f"bench{{n:03d}}", defaults={{"organization": dept, "role": Role.STAFF}}
    )
    # one hash per user, as people have: each login verifies its own
    user.password = make_password("{pw}")
    user.save(update_fields=["password"])
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


class Browser:
    """One person: a cookie jar and the CSRF dance of the login form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.status, response.read().decode("utf-8", "replace")

    def login(self, username: str) -> float:
        _, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if token is None:
            raise RuntimeError("no CSRF token on the login page")
        data = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        request = urllib.request.Request(
            self.base + "/accounts/login/", data=data, headers={"Referer": self.base + "/"}
        )
        started = time.perf_counter()
        with self.opener.open(request, timeout=120) as response:
            response.read()
            if "/accounts/login/" in response.url:
                raise RuntimeError(f"login refused for {username}")
        return time.perf_counter() - started


def run(hasher: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    name = f"bench_login_{hasher}"
    admin = args.admin_url
    db_url = admin.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    (workdir / "bench_login_settings.py").write_text(SETTINGS)
    env = {
        **os.environ,
        "PYTHONPATH": f"{workdir}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "bench_login_settings",
        "DATABASE_URL": db_url,
        "GOVCLOUD_VAR_DIR": str(workdir / hasher),
        "BENCH_HASHER": HASHERS[hasher],
        "DEBUG": "False",
        "AXES_FAILURE_LIMIT": "1000",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0", "--noinput"], env=env, check=True, cwd=ROOT)
    seed = SEED.format(n=args.users + args.readers, pw=PASSWORD)
    subprocess.run([*manage, "shell", "-c", seed], env=env, check=True, cwd=ROOT)
    port = _free_port()
    server = subprocess.Popen(  # our own gunicorn
        [
            PYTHON,
            "-m",
            "gunicorn",
            "govcloud.wsgi",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                Browser(base).get("/healthz")
                break
            except OSError:
                time.sleep(0.2)
        readers = [Browser(base) for _ in range(args.readers)]
        for n, reader in enumerate(readers):
            reader.login(f"bench{args.users + n:03d}")
        logins: list[float] = []
        pages: list[float] = []
        errors: list[str] = []
        stop = threading.Event()

        def read(browser: Browser) -> None:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    browser.get("/requests/")
                    pages.append(time.perf_counter() - started)
                except Exception as exc:  # counted, reported
                    errors.append(f"page: {exc}")

        def login(n: int) -> None:
            time.sleep(n * args.window / args.users)  # arrivals spread over the window
            try:
                logins.append(Browser(base).login(f"bench{n:03d}"))
            except Exception as exc:  # counted, reported
                errors.append(f"login {n}: {exc}")

        reader_threads = [threading.Thread(target=read, args=(r,)) for r in readers]
        login_threads = [threading.Thread(target=login, args=(n,)) for n in range(args.users)]
        for thread in reader_threads + login_threads:
            thread.start()
        for thread in login_threads:
            thread.join()
        stop.set()
        for thread in reader_threads:
            thread.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(["psql", admin, "-q", "-c", f"DROP DATABASE IF EXISTS {name}"], check=False)
    result = {
        "login_p50_s": statistics.median(logins) if logins else float("nan"),
        "login_p95_s": _percentile(logins, 95),
        "page_p50_ms": statistics.median(pages) * 1000 if pages else float("nan"),
        "page_p95_ms": _percentile(pages, 95) * 1000,
        "pages": len(pages),
        "errors": len(errors),
    }
    print(
        f"{hasher:7s} logins {len(logins)}/{args.users}: p50 {result['login_p50_s']:.2f} s, "
        f"p95 {result['login_p95_s']:.2f} s · pages under load ({len(pages)}): "
        f"p50 {result['page_p50_ms']:.0f} ms, p95 {result['page_p95_ms']:.0f} ms · "
        f"errors {len(errors)}" + (f" (first: {errors[0]})" if errors else "")
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--hashers", default="pbkdf2,argon2")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-login-") as tmp:
        results = {h: run(h, args, Path(tmp)) for h in args.hashers.split(",")}
    for hasher, r in results.items():
        print(
            f"RESULT login_burst hasher={hasher} logins={args.users} "
            f"login_p95_s={r['login_p95_s']:.2f} page_p95_ms={r['page_p95_ms']:.0f} "
            f"errors={r['errors']:.0f}"
        )


if __name__ == "__main__":
    main()
