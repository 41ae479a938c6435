"""The screenshots of the addon's page (static/description/*.png), taken from `make run`'s database.

    make run                       # in another terminal: the demo served on 127.0.0.1:8069
    python3 tools/screenshots.py [--url http://127.0.0.1:8069] [--db collections_demo]
    python3 tools/gen_readme.py    # README.rst and index.html pick them up

Drives headless Chromium (tools/screenshot.py) as the demo's users: the collector's
list, a customer's Collections tab, the manager's dashboard and policy, the customer
portal; the follow-up letter is rendered by Odoo and its first page turned into a PNG
with pdftoppm. Nothing is written to the database.
"""
import argparse
import base64
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from screenshot import Browser, login

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "collections_followup" / "static" / "description"
WIDTH, HEIGHT = 1280, 860
BLANK_BYTES = 20_000


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


def shoot(url, session, shots, wait=5.0):
    """shots: [(file name, path, [CSS selectors to click first])]."""
    browser = Browser(WIDTH, HEIGHT)
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
            (OUT / name).write_bytes(png)
            print(f"wrote {(OUT / name).relative_to(ROOT)} <- {path}")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="collections_demo")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    admin = login(args.url, args.db, "admin", "admin")
    meridian = find(args.url, admin, "res.partner", [("name", "=", "Meridian Architects")])
    policy = find(args.url, admin, "collections.policy", [("is_default", "=", True)])
    shoot(args.url, login(args.url, args.db, "collector", "collector"), [
        ("worklist.png", "/odoo/action-collections_followup.action_collections_my_worklist", []),
        ("customer.png", f"/odoo/action-account.res_partner_action_customer/{meridian}", ['a[name="collections"]']),
    ])
    shoot(args.url, admin, [
        ("dashboard.png", "/odoo/action-collections_followup.action_collections_dashboard", []),
        ("policy.png", f"/odoo/action-collections_followup.action_collections_policy/{policy}", []),
    ])
    shoot(args.url, login(args.url, args.db, "bluefjord", "bluefjord"), [("portal.png", "/my/collections", [])])
    letter(args.url, admin, find(args.url, admin, "res.partner", [("name", "=", "Cobalt Print Works")]))


if __name__ == "__main__":
    main()
