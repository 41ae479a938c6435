"""Screenshots of Odoo pages as a logged-in user, with headless Chromium.

    python tools/screenshot.py --url http://127.0.0.1:8069 --db collections_demo \\
        --login collector --password collector out.png /odoo/action-...  [more.png /odoo/... ...]

Logs in through /web/session/authenticate, hands the session cookie to
Chromium over the DevTools protocol (websocket-client), opens each page and
saves a PNG once the page has been quiet for a moment.
"""
import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar

import websocket


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


def main():
    parser = argparse.ArgumentParser()
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
    args = parser.parse_args()
    clicks = {}
    for spec in args.click:
        png, selector = spec.split(":", 1)
        clicks.setdefault(png, []).append(selector)
    session = login(args.url, args.db, args.login, args.password)
    browser = Browser(args.width, args.height)
    try:
        host = args.url.split("//", 1)[1].split(":")[0]
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        browser.call("Page.enable")
        for png, path in zip(args.shots[::2], args.shots[1::2], strict=True):
            browser.call("Page.navigate", url=f"{args.url}{path}")
            time.sleep(args.wait)
            for selector in clicks.get(png, []):
                browser.call("Runtime.evaluate", expression=f"document.querySelector({json.dumps(selector)}).click()")
                time.sleep(args.wait)
            shot = browser.call("Page.captureScreenshot", format="png")
            with open(png, "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
            print(f"{png} <- {path}")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
