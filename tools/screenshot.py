"""Screenshots of Odoo as its users see it, with headless Chromium (one tool for both uses).

Pages as a logged-in user (any page, any user; with `make run` serving):

    python3 tools/screenshot.py --url http://127.0.0.1:8069 --db collections_demo \\
        --login collector --password collector out.png /odoo/action-...  [more.png /odoo/... ...] \\
        [--click "out.png:a[name=collections]"]

The addon page's screenshots (collections_followup/static/description/*.png, from make run's database;
then python3 tools/gen_readme.py puts them in README.rst and index.html):

    python3 tools/screenshot.py addon-pages [--url http://127.0.0.1:8069] [--db collections_demo]

Logs in through /web/session/authenticate, hands the session cookie to Chromium over the DevTools
protocol (websocket-client), opens each page and saves a PNG once it has rendered; the follow-up letter
is Odoo's PDF, its first page turned into a PNG with pdftoppm. Nothing is written to the database.
"""
import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import websocket
from common import ROOT

OUT = ROOT / "collections_followup" / "static" / "description"
WIDTH, HEIGHT = 1280, 860
BLANK_BYTES = 20_000


def login(url, db, user, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    payload = json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}).encode()
    request = urllib.request.Request(
        f"{url}/web/session/authenticate", data=payload, headers={"Content-Type": "application/json"},
    )
    answer = json.loads(opener.open(request, timeout=30).read())
    if answer.get("error"):
        raise SystemExit(f"login failed: {answer['error']['data']['message']}")
    return next(cookie.value for cookie in jar if cookie.name == "session_id")


class Browser:
    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="cf_shot_")
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        self.proc = subprocess.Popen([
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            f"--user-data-dir={self.profile}", "--remote-debugging-port=9333",
            f"--window-size={width},{height}", "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                pages = json.loads(urllib.request.urlopen("http://127.0.0.1:9333/json", timeout=2).read())
                target = next(p for p in pages if p["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        else:
            raise SystemExit("Chromium did not start")
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def rpc(url, session, model, method, *args, **kwargs):
    payload = json.dumps({"jsonrpc": "2.0", "params": {
        "model": model, "method": method, "args": list(args), "kwargs": kwargs,
    }}).encode()
    request = urllib.request.Request(f"{url}/web/dataset/call_kw", data=payload, headers={
        "Content-Type": "application/json", "Cookie": f"session_id={session}",
    })
    answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    if answer.get("error"):
        raise SystemExit(f"{model}.{method}: {answer['error']['data']['message']}")
    return answer["result"]


def find(url, session, model, domain):
    ids = rpc(url, session, model, "search", domain, limit=1)
    if not ids:
        raise SystemExit(f"nothing in {model} matches {domain}: is this make run's demo database?")
    return ids[0]


def shoot(url, session, shots, wait=5.0, width=WIDTH, height=HEIGHT, out=None):
    """shots: [(file name, path, [CSS selectors to click first])], written under ``out`` (default: the
    current folder). A page that stays blank (assets still building) is retried, then refused."""
    out = Path(out or ".")
    browser = Browser(width, height)
    try:
        host = url.split("//", 1)[1].split(":")[0]
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        browser.call("Page.enable")
        # The first page after assets are rebuilt can come out blank: load once before shooting.
        browser.call("Page.navigate", url=f"{url}/odoo")
        time.sleep(wait)
        for name, path, clicks in shots:
            browser.call("Page.navigate", url=f"{url}{path}")
            time.sleep(wait)
            for selector in clicks:
                browser.call("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)}).click()")
                time.sleep(wait / 2)
                # Bring what was clicked (a tab) to the top of the screen.
                browser.call("Runtime.evaluate", expression=(
                    f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'start'}})"))
                time.sleep(1)
            for _attempt in range(4):
                png = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
                if len(png) > BLANK_BYTES:
                    break
                time.sleep(wait)  # still loading: an empty page compresses to almost nothing
            else:
                raise SystemExit(f"{path} stayed blank")
            (out / name).write_bytes(png)
            print(f"wrote {out / name} <- {path}")
    finally:
        browser.close()


def letter(url, session, partner_id):
    request = urllib.request.Request(
        f"{url}/report/pdf/collections_followup.report_followup_letter/{partner_id}",
        headers={"Cookie": f"session_id={session}"},
    )
    pdf = urllib.request.urlopen(request, timeout=120).read()
    if not pdf.startswith(b"%PDF"):
        raise SystemExit("the letter did not render as a PDF")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "letter.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(Path(tmp) / "letter.pdf"), str(OUT / "letter")], check=True)
    print(f"wrote {(OUT / 'letter.png').relative_to(ROOT)} <- follow-up letter PDF, page 1")


def addon_pages(argv):
    parser = argparse.ArgumentParser(prog="screenshot.py addon-pages")
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="collections_demo")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    admin = login(args.url, args.db, "admin", "admin")
    meridian = find(args.url, admin, "res.partner", [("name", "=", "Meridian Architects")])
    policy = find(args.url, admin, "collections.policy", [("is_default", "=", True)])
    collector = login(args.url, args.db, "collector", "collector")
    # The run two weeks ahead (a transient record of the collector's; nothing else is written).
    preview = rpc(args.url, collector, "collections.run.preview", "create",
                  [{"date": (date.today() + timedelta(days=14)).isoformat()}])
    preview = preview[0] if isinstance(preview, list) else preview
    rpc(args.url, collector, "collections.run.preview", "action_preview", [preview])
    shoot(args.url, collector, [
        ("worklist.png", "/odoo/action-collections_followup.action_collections_my_worklist", []),
        ("customer.png", f"/odoo/action-account.res_partner_action_customer/{meridian}", ['a[name="collections"]']),
        ("preview.png", f"/odoo/action-collections_followup.action_collections_run_preview/{preview}", []),
    ], out=OUT, wait=8.0)
    shoot(args.url, admin, [
        ("dashboard.png", "/odoo/action-collections_followup.action_collections_dashboard", []),
        ("policy.png", f"/odoo/action-collections_followup.action_collections_policy/{policy}", []),
    ], out=OUT)
    shoot(args.url, login(args.url, args.db, "bluefjord", "bluefjord"), [("portal.png", "/my/collections", [])],
          out=OUT)
    letter(args.url, admin, find(args.url, admin, "res.partner", [("name", "=", "Cobalt Print Works")]))


def pages(argv):
    parser = argparse.ArgumentParser(prog="screenshot.py")
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=float, default=4.0, help="seconds to let the page render")
    parser.add_argument("--click", action="append", default=[],
                        help="PNG:CSS selector to click before that screenshot (repeatable)")
    parser.add_argument("shots", nargs="+", help="pairs: file.png /path")
    args = parser.parse_args(argv)
    clicks = {}
    for spec in args.click:
        png, selector = spec.split(":", 1)
        clicks.setdefault(png, []).append(selector)
    shots = [(png, path, clicks.get(png, [])) for png, path in zip(args.shots[::2], args.shots[1::2], strict=True)]
    shoot(args.url, login(args.url, args.db, args.login, args.password), shots, wait=args.wait,
          width=args.width, height=args.height)


def main():
    if sys.argv[1:2] == ["addon-pages"]:
        addon_pages(sys.argv[2:])
    else:
        pages(sys.argv[1:])


if __name__ == "__main__":
    main()
