"""BENCHMARKS.md regeneration keeps the sections written by hand."""

from bench.support.report import KEPT_MARKER, write_markdown


def test_regenerating_keeps_everything_below_the_marker(tmp_path):
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"# old generated tables\n\n{KEPT_MARKER}\n\n## 9. A study run by hand\n\n| a | b |\n")

    write_markdown(results_dir=tmp_path, output=output)

    text = output.read_text()
    assert "old generated tables" not in text
    assert text.startswith("# Benchmarks")
    assert text.endswith(f"{KEPT_MARKER}\n\n## 9. A study run by hand\n\n| a | b |\n")


def test_a_first_rendering_ends_with_the_marker(tmp_path):
    output = write_markdown(results_dir=tmp_path, output=tmp_path / "BENCHMARKS.md")

    assert output.read_text().rstrip().endswith(KEPT_MARKER)
