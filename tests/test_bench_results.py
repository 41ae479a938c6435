"""tools/bench.py: `make bench` writes its table at the top of bench/results.md and keeps the sections below it."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import bench


def test_a_new_file_has_the_table_and_the_raw_figures(tmp_path):
    out = tmp_path / "results.md"
    bench.write_results(out, "# Benchmark results\n\n| a | 1 |", [{"run": 1}])
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\n| a | 1 |\n\n" + bench.RAW)
    assert json.loads(text.split("```json\n")[1].split("```")[0]) == [{"run": 1}]


def test_the_sections_people_wrote_are_kept_and_the_old_table_replaced(tmp_path):
    out = tmp_path / "results.md"
    out.write_text("# Benchmark results\n\n| a | 1 |\n\nThis table: the old run.\n\n"
                   "## A/B of the morning\n\nA 40 s, B 36 s.\n\n## Two workers\n\n18 s.\n\n"
                   f"{bench.RAW}\n\n```json\n[{{\"run\": 1}}]\n```\n", encoding="utf-8")
    bench.write_results(out, "# Benchmark results\n\n| a | 2 |", [{"run": 2}])
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\n| a | 2 |\n\n## A/B of the morning\n\nA 40 s, B 36 s.\n\n"
                           "## Two workers\n\n18 s.\n\n" + bench.RAW)
    assert "| a | 1 |" not in text and "the old run" not in text
    assert text.count(bench.RAW) == 1
    assert json.loads(text.split("```json\n")[1].split("```")[0]) == [{"run": 2}]
