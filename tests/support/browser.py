"""The billing page in a real browser: Debian's Chromium driven by Playwright, Keycloak's own sign-in
form, axe-core from the page's node_modules, and the built page (`ui/dist`) kept current.

Playwright never downloads a browser here: `/usr/bin/chromium` comes from apt (`make browser`), and
the tests fail, not skip, without it.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from localcluster.keycloak import demo_users
from tests.support.files import REPO_ROOT

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS: Final = REPO_ROOT / "test-output" / "page"
UI_DIR: Final = REPO_ROOT / "ui"
UI_DIST: Final = UI_DIR / "dist"
AXE_JS: Final = UI_DIR / "node_modules" / "axe-core" / "axe.min.js"
WAIT_MS: Final = 60_000
"""generous: a 2-core machine shared with Keycloak, the apiserver and other builds"""
expect.set_options(timeout=WAIT_MS)

TABS: Final = {
    "overview": "Overview",
    "subscription": "Subscription",
    "plans": "Available Plans",
    "addons": "Turbo Add-ons",
    "projects": "Projects",
    "alerts": "Alerts & Budget",
}
BUILD_INPUTS: Final = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium; an AssertionError naming the fix when it is not installed."""
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-dejavu-core)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def ui_dist_stale() -> bool:
    """True when `ui/dist` is missing or older than any of the page's sources."""
    index = UI_DIST / "index.html"
    if not index.is_file():
        return True
    built = _newest_mtime(UI_DIST)
    return any(_newest_mtime(UI_DIR / name) > built for name in BUILD_INPUTS if (UI_DIR / name).exists())


def ensure_ui_built() -> None:
    """`make ui` when the build is missing or stale (first run: npm ci, then 20-60 s of Vite)."""
    if ui_dist_stale():
        subprocess.run(["make", "ui"], cwd=REPO_ROOT, check=True)


def bundle_gzip_kb() -> dict[str, float]:
    """JS and CSS of the build, gzipped, in kB (what a first visit downloads, fonts and images aside)."""
    import gzip

    sizes = {"js": 0.0, "css": 0.0}
    for path in (UI_DIST / "assets").iterdir():
        kind = path.suffix.lstrip(".")
        if kind in sizes:
            sizes[kind] += len(gzip.compress(path.read_bytes(), compresslevel=9)) / 1000
    return sizes


def sign_in(page: Page, url: str, username: str, password: str) -> float:
    """Open the page, get sent to Keycloak, fill its login form; seconds from submit to being back."""
    page.goto(url)
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    began = time.monotonic()
    page.locator("#kc-login").click()
    page.wait_for_url(f"{url}**", timeout=WAIT_MS)
    return time.monotonic() - began


def open_tab(page: Page, key: str) -> None:
    page.get_by_role("tab", name=TABS[key]).click()
    expect(page.get_by_role("tab", name=TABS[key])).to_have_attribute("aria-selected", "true")


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core over the page as shown (all rules, colour contrast included); serious and critical ones."""
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `make ui` (npm ci brings axe-core)"
    # Evaluated through DevTools, not added as a <script>: the page's own CSP (script-src 'self') stays
    # in force for everything the page does, and the check does not need it loosened.
    page.evaluate(AXE_JS.read_text())
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def signed_in(context: BrowserContext, url: str, user: str) -> Page:
    """A new tab of `context` signed in at `url` as the demo user `user`."""
    page = context.new_page()
    sign_in(page, url, user, demo_users()[user])
    return page


def bar(page: Page, name: str) -> tuple[str, str]:
    """A usage bar's text and colour level, once it is shown."""
    progress = page.get_by_role("progressbar", name=name)
    expect(progress).to_be_visible()
    root = page.locator(".pf-v6-c-progress").filter(has=progress)
    text = progress.get_attribute("aria-valuetext") or ""
    classes = root.get_attribute("class") or ""
    level = next((lv for lv in ("warning", "danger") if f"pf-m-{lv}" in classes), "success")
    return text, level


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot into test-output/page/ (gitignored); its path is printed."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
