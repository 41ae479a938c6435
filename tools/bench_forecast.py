"""make bench-forecast: the cash forecast's accuracy and speed on books of paid histories by behaviour.

    make bench-forecast                     # 10,000 customers / 100,000 open items, then 20,000 / 200,000
    make bench-forecast SIZE=2000:20000     # one size (customers:open items)

For each size, a book of two years of paid histories (collections_followup/engine/forecast_book.py: on time,
habitually late, erratic, getting worse, seasonal, partial payers, never paying; each customer invoiced twice a
month) goes through the product's own forecast (engine/forecast.py, as collections.forecast calls it):

- the 12-month backtest (as of each month-end, the history as it stood; the weeks not over yet are not scored):
  weekly cash-in WAPE over 13 weeks, per-item mean absolute error in days, Brier score of "paid within 30 days",
  for the model and the two baselines (the due date, the customer's average delay); its time;
- fitting the curves and predicting every open item of a book of that many open items (the open items of the
  behaviour book, repeated with other due dates up to the size), with the process's peak memory.

Then the product itself, in Odoo, on a book built by `make bench`'s generator (tools/bench_odoo.py) in its one-world
mode (`generate(open_by_behaviour=True)`: the open invoices are those each customer's behaviour left unpaid today,
the paid history what it paid before), 10,000 customers / 20,000 open invoices (ODOO_SIZE=customers:open items,
0 to skip): the forecast rebuilt for every open item by its nightly job's code, then its 12-month backtest by its
monthly job's code, reading the ledger as it stood at each month-end (collections.forecast._measure): accuracy
(model and both baselines), times, memory. Odoo's part needs what `make bench` needs (it shares its base database).

The engine reads the book a thousand customers at a time (generated anew for each pass, as the product reads
the ledger in chunks of customers): the time of generating it is measured once and not counted in the rows.

Writes its table into bench/results.md under "## Cash forecast (make bench-forecast)" (the rest kept). Targets
(issue #37): WAPE <= 15 %, MAE <= 0.6 x the due-date baseline, Brier below both baselines, predicting <= 2 x
the decision phase of `make bench` at that size, the backtest <= 3 minutes.
"""
import argparse
import os
import random
import resource
import sys
import time
import types
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The engine alone, without Odoo (the addon's __init__ imports Odoo): the addon folder as a bare package.
_package = types.ModuleType("collections_followup")
_package.__path__ = [str(ROOT / "collections_followup")]
sys.modules.setdefault("collections_followup", _package)

from collections_followup.engine import forecast as F  # noqa: E402  (the addon's engine, without Odoo)
from collections_followup.engine.forecast_book import book_chunks  # noqa: E402

SIZES = [(10_000, 100_000), (20_000, 200_000)]
ODOO_SIZE = (10_000, 20_000)
SECTION = "## Cash forecast (make bench-forecast)"


def measure_odoo(customers, invoices):
    """The product's forecast and backtest in Odoo on a one-world book of `make bench`'s generator (module doc)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import bench  # make bench's driver: its base database, its odoo-bin shells (Odoo's part only)

    odoo_src, addons_path = os.environ.get("ODOO_SRC"), os.environ.get("ADDONS_PATH")
    if not odoo_src or not addons_path:
        sys.exit("ODOO_SRC / ADDONS_PATH are not set: run through 'make bench-forecast'.")
    odoo = bench.Odoo(odoo_src, addons_path)
    bench.base_database(odoo)
    book = f"collections_forecast_{customers}_{invoices}"
    bench.createdb(book, bench.BASE_DB)
    try:
        result = odoo.shell(book, f"bench_odoo.generate(env, {customers}, {invoices}, seed=20261124, "
                                  "open_by_behaviour=True)")
        result.update(odoo.shell(book, "bench_odoo.check_book(env)"))
        if result["check"]["problems"]:
            sys.exit(f"the book does not agree with Odoo's views of it: {result['check']['problems']}")
        result.update(odoo.shell(book, "bench_odoo.measure_decision(env, repeat=3)"))
        result.update(odoo.shell(book, "bench_odoo.measure_forecast(env)"))
    finally:
        bench.dropdb(book)
    return result


def measure(customers, open_items, today, seed):
    # The book is generated anew, a thousand customers at a time, each time the engine reads it (as the product
    # reads the ledger in chunks of customers): what is held is a chunk, whatever the book's size.
    def source():
        return (chunk for chunk, _behaviours in book_chunks(customers, today, seed=seed))

    started = time.perf_counter()
    histories, customers_list, opened = 0, [], []
    for chunk, behaviours in book_chunks(customers, today, seed=seed):
        histories += len(chunk)
        customers_list += sorted(behaviours)
        opened += [(h.customer, h.open_at(today), h.due_date) for h in chunk if h.open_at(today) > 0]
    generated = time.perf_counter() - started
    started = time.perf_counter()
    accuracy = F.backtest(source, F.month_ends(today), until=today)
    backtest_s = time.perf_counter() - started - 2 * generated  # less generating the book twice (its two passes)
    # Predicting a book of ``open_items`` open items: the behaviour book's own, then more of its customers' at
    # other due dates, up to the size.
    rng = random.Random(seed)
    while len(opened) < open_items:
        opened.append((rng.choice(customers_list), round(rng.uniform(100, 5000), 2),
                       today - timedelta(days=rng.randint(-45, 120))))
    # Customer by customer, as the product predicts them (collections.forecast._rebuild: the ledger's open items
    # grouped by customer), so that each customer's curve is worked out once.
    opened = sorted(opened[:open_items], key=lambda row: row[0])
    started = time.perf_counter()
    model = F.fit(source, today)
    fitted = time.perf_counter() - started - generated  # less generating the book once (the ledger's read)
    predictions = [F.predict(model.curve(customer), amount, due, today, customer=customer)
                   for customer, amount, due in opened]
    band = F.weekly_band(predictions)
    predict_s = time.perf_counter() - started - generated
    return {
        "customers": customers, "open_items": open_items, "histories": histories,
        "generate_s": round(generated, 1), "backtest_s": round(backtest_s, 1), "fit_s": round(fitted, 1),
        "fit_predict_s": round(predict_s, 1), "backtest_items": accuracy.items,
        "wape": accuracy.wape, "mae": accuracy.mae, "brier": accuracy.brier,
        "likely_13_weeks": round(sum(likely for _low, likely, _high in band)),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def table(rows, today):
    def pct(value):
        return f"{100 * value:.1f} %"

    lines = [SECTION, "", f"Run on {today} ({time.strftime('%H:%M')}), books of seed 20261207 "
             "(engine/forecast_book.py). Model / due-date baseline / average-delay baseline.", "",
             "| | " + " | ".join(f"{r['customers']:,} customers" for r in rows) + " |",
             "| --- |" + " --- |" * len(rows)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in rows) + " |")

    row("weekly cash-in WAPE, 13 weeks (target <= 15 %)",
        lambda r: f"**{pct(r['wape']['model'])}** / {pct(r['wape']['due'])} / {pct(r['wape']['average'])}")
    row("per-item MAE, days (target <= 0.6 x due date)",
        lambda r: f"**{r['mae']['model']:.1f}** / {r['mae']['due']:.1f} / {r['mae']['average']:.1f} "
                  f"({r['mae']['model'] / r['mae']['due']:.2f} x)")
    row("Brier, paid within 30 days (target below both)",
        lambda r: f"**{r['brier']['model']:.3f}** / {r['brier']['due']:.3f} / {r['brier']['average']:.3f}")
    row("items scored in the backtest", lambda r: f"{r['backtest_items']:,}")
    row("12-month backtest, s (target <= 180)", lambda r: f"{r['backtest_s']}")
    row("fit the curves, s", lambda r: f"{r['fit_s']}")
    row("fit and predict every open item, s", lambda r: f"{r['fit_predict_s']} ({r['open_items']:,} items)")
    row("histories in the book (generating them once, s: not counted above)",
        lambda r: f"{r['histories']:,} ({r['generate_s']})")
    row("peak memory of the process so far, MB", lambda r: f"{r['peak_mb']}")
    return "\n".join(lines)


def odoo_table(result):
    """The product's own numbers on the one-world book of `make bench`'s generator."""
    def pct(value):
        return f"{100 * value:.1f} %"

    generated, forecast, decision = result["generate"], result["forecast"], result["decision"]
    back = forecast["backtest"]
    ratio = forecast["seconds"] / decision["decision_s"]
    rows = [
        ("book (open invoices left unpaid by the behaviour; paid history; built in s)",
         f"{generated['customers']:,} customers, {generated['invoices']:,} open, {generated['paid_invoices']:,} paid "
         f"by {generated['payments']:,} payments ({generated['seconds']})"),
        ("weekly cash-in WAPE, 13 weeks (target <= 15 %)",
         f"**{pct(back['wape'])}** / {pct(back['wape_due'])} / {pct(back['wape_average'])}"),
        ("per-item MAE, days (target <= 0.6 x due date)",
         f"**{back['mae']:.1f}** / {back['mae_due']:.1f} / {back['mae_average']:.1f} "
         f"({back['mae'] / back['mae_due']:.2f} x)"),
        ("Brier, paid within 30 days (target below both)",
         f"**{back['brier']:.3f}** / {back['brier_due']:.3f} / {back['brier_average']:.3f}"),
        ("items scored in the backtest", f"{back['items']:,}"),
        ("what the dashboard says", back["sentence"]),
        ("12-month backtest (monthly job), s (target <= 180)", f"{back['seconds']:.1f}"),
        ("forecast rebuilt for every open item (nightly job), s / decision phase, s (target <= 2 x)",
         f"{forecast['seconds']:.1f} / {decision['decision_s']:.2f} = {ratio:.1f} x ({forecast['items']:,} items)"),
        ("the process's peak memory before the rebuild / after it, MB",
         f"{forecast['rss_before_mb']:.0f} / {forecast['rss_peak_mb']:.0f}"),
    ]
    return "\n".join([
        "", "The product in Odoo on `make bench`'s generator in its one-world mode "
        "(`generate(open_by_behaviour=True)`, seed 20261124): the nightly job's rebuild and the monthly job's backtest "
        "(collections.forecast), reading the ledger as it stood at each month-end. Model / due-date baseline / "
        "average-delay baseline.", "",
        "| | " + f"{generated['customers']:,} / {generated['invoices']:,}" + " |", "| --- | --- |",
        *(f"| {label} | {value} |" for label, value in rows)])


def write(section):
    out = ROOT / "bench" / "results.md"
    text = out.read_text(encoding="utf-8") if out.exists() else "# Benchmark results\n"
    start = text.find(SECTION)
    if start != -1:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + "\n" + (text[end:] if end != -1 else "")
    else:
        marker = text.find("\n## ")
        text = (text[:marker + 1] + section + "\n" + text[marker:]) if marker != -1 else text + "\n" + section + "\n"
    out.write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="", help="customers:open items")
    parser.add_argument("--odoo-size", default=":".join(map(str, ODOO_SIZE)),
                        help="customers:open invoices of the book in Odoo (0 to skip it)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sizes = [tuple(int(part) for part in args.size.split(":"))] if args.size else SIZES
    today = date.today()
    rows = []
    for customers, open_items in sizes:
        print(f"[bench-forecast] {customers:,} customers, {open_items:,} open items...", flush=True)
        rows.append(measure(customers, open_items, today, seed=20261207))
        print(rows[-1], flush=True)
    section = table(rows, today)
    if args.odoo_size not in ("", "0"):
        customers, invoices = (int(part) for part in args.odoo_size.split(":"))
        print(f"[bench-forecast] in Odoo: {customers:,} customers, {invoices:,} open invoices...", flush=True)
        result = measure_odoo(customers, invoices)
        print(result, flush=True)
        section += "\n" + odoo_table(result)
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
