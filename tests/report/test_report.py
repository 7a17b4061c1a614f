"""``freqprobe report``: every figure inlined and captioned with its data, tables rendered, nothing external."""

from __future__ import annotations

import base64
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from freqprobe.cli import main
from freqprobe.errors import FreqprobeError
from freqprobe.report.html import REPORT_FILE, write_report

from report_folders import JPEG_DATASET, save_figure, write_json, write_run_folder


class PageParser(HTMLParser):
    """The <img> sources, figure captions, table cells and tags of a page."""

    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.captions: list[str] = []
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self._capture: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag in ("figcaption", "td", "th"):
            self._capture = []

    def handle_endtag(self, tag):
        if tag in ("figcaption", "td", "th") and self._capture is not None:
            text = " ".join("".join(self._capture).split())
            (self.captions if tag == "figcaption" else self.cells).append(text)
            self._capture = None

    def handle_data(self, data):
        if self._capture is not None:
            self._capture.append(data)


def parse(path: Path) -> tuple[str, PageParser]:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    return text, parser


def visible_pngs(root: Path) -> list[Path]:
    skipped = {"locks", "failed"}
    return sorted(
        path for path in root.rglob("*.png")
        if not any(part.startswith(".") or part in skipped for part in path.relative_to(root).parts)
    )


def caption_of(parser: PageParser, relative: str) -> str:
    (caption,) = [caption for caption in parser.captions if caption.endswith(relative)]
    return caption


def test_run_report_inlines_every_png_with_a_caption(run_tree, capsys):
    (run_tree / "learning_curve.png").unlink(missing_ok=True)
    assert main(["report", str(run_tree)]) == 0
    assert (run_tree / "learning_curve.png").is_file()  # drawn by the report for a run trained without one
    path = run_tree / REPORT_FILE
    assert f"wrote {path}" in capsys.readouterr().out
    text, page = parse(path)
    pngs = visible_pngs(run_tree)
    # spectrum figures (4 + windowed class spectra), sensitivity, filters, figures/, the learning curve
    assert len(pngs) == 5 + 2 + 1 + 1 + 1
    assert len(page.images) == len(page.captions) == len(pngs)
    sources = {image["src"] for image in page.images}
    for png in pngs:
        assert "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() in sources
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        assert int(image["width"]) > 100 and int(image["height"]) > 100


def test_captions_say_what_is_plotted_and_on_which_data(run_tree):
    write_report(run_tree)
    _, page = parse(run_tree / REPORT_FILE)
    spectra = caption_of(page, "analysis/spectrum/class_spectra.png")
    assert "Mean power spectrum of each class" in spectra
    assert "Fashion-MNIST, val split (3000 images), filter none" in spectra
    bands = caption_of(page, "analysis/sensitivity/band_ablation.png")
    assert "low-passed" in bands and "Fashion-MNIST, test split (200 images), filter blur:2; model resnet20" in bands
    assert "attack fgsm-linf-eps0.007843" in caption_of(page, "analysis/sensitivity/attack_fgsm-linf-eps0.007843.png")
    kernels = caption_of(page, "analysis/filters/first_layer_kernels.png")
    assert kernels.startswith("The sixteen stem kernels beside their spectra.")  # the JSON's own caption
    assert "kernels of a model trained on Fashion-MNIST" in kernels
    curve = caption_of(page, "figures/learning_curve.png")
    expected = "training run, Fashion-MNIST, filter blur:2; model resnet20 (run fashion-mnist__resnet20__blur-2__seed0)"
    assert expected in curve


def test_run_tables(run_tree):
    write_report(run_tree)
    text, page = parse(run_tree / REPORT_FILE)
    cells = page.cells
    assert cells[cells.index("test_accuracy") + 1] == "91.23%"  # as the CLI prints it
    assert cells[cells.index("train_seconds") + 1] == "31.5"
    assert cells[cells.index("rank_weights_sha256") + 1] == "ab12"
    assert "nested" not in cells  # containers are left out, not dumped
    assert "Training log (metrics.jsonl)" in text and "90.51%" in cells  # epoch 2 val accuracy
    assert cells[cells.index("data train_images") + 1] == "48000"
    assert "fgsm-linf-eps0.007843" in cells and "41.00%" in cells  # attack table
    assert "layer1.0.conv1" in cells and "0.3125" in cells  # filters table
    assert "Dataset spectrum (spectrum.json)" in text and "T-shirt/top" in cells
    assert text.count("<h1>") == 1


def test_sweep_report_renders_markdown_tables_and_labels_jpeg_data(sweep_tree):
    out = sweep_tree / "elsewhere" / "page.html"
    assert main(["report", str(sweep_tree), "--out", str(out)]) == 0
    assert not (sweep_tree / REPORT_FILE).exists()
    text, page = parse(out)
    assert page.tags >= {"table", "figure", "figcaption", "img"}
    assert "Sweep:" in text.split("</h1>")[0]
    # the runs of a sweep show their metrics; their long configuration tables start folded (no script needed)
    assert text.count("<details><summary>Training configuration (config.json)</summary>") == 2
    assert "<h3>Final metrics (metrics.json)</h3>" in text
    # results.md, reproduce.md (escaped bar inside a cell) and compare.md become HTML tables
    assert "91.20 (n=1)" in page.cells and "88.40 (n=1)" in page.cells
    assert "84.1 | noisy" in page.cells
    assert "0.0625" in page.cells
    assert ["c", "TrainingDiverged: loss is nan"] == page.cells[page.cells.index("c"):page.cells.index("c") + 2]
    pngs = visible_pngs(sweep_tree)
    assert len(pngs) == 6 and len(page.images) == 6  # .hidden/ skipped; 2 learning curves drawn by the report
    jpeg = caption_of(page, "jpeg-spectrum/class_spectra.png")
    assert "CIFAR-10 (JPEG q75 copy), train split (40000 images)" in jpeg
    scatter = caption_of(page, "compare/scatter_input_centroid.png")
    assert "Spearman" in scatter and "2 runs of sweep on Fashion-MNIST" in scatter
    assert "runs of sweep" in caption_of(page, "compare/band_matrix.png")


def test_page_is_self_contained(sweep_tree):
    path, _ = write_report(sweep_tree)
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<link" not in text.lower() and "@import" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text, re.IGNORECASE)
    assert "url(" not in text
    assert not [name for name in path.parent.iterdir() if name.name.endswith(".tmp")]  # atomic write left nothing


def test_markdown_and_json_cannot_inject_markup(tmp_path):
    markdown = "# Title <script>alert(1)</script>\n\n| a | b |\n| --- | --- |\n| <b>x</b> | `<i>` |\n"
    (tmp_path / "notes.md").write_text(markdown)
    (tmp_path / "extra.json").write_text('{"label": "<img src=x onerror=alert(1)>", "value": 0.5}')
    path, _ = write_report(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "<img src=x" not in text and "<b>x</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<code>&lt;i&gt;</code>" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_a_broken_png_is_named_not_fatal(tmp_path, make_png):
    make_png(tmp_path / "good.png", "good", 10)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    path, report = write_report(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.count("<img ") == 1
    assert "Figure broken.png is not a readable PNG and is left out" in text


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("freqprobe: error: report folder") and "\n" not in error
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "holds no freqprobe output" in capsys.readouterr().err
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "a.md").write_text("# a\n")
    with pytest.raises(FreqprobeError, match="is a folder"):
        write_report(tmp_path / "figs", tmp_path)


def test_kernel_figures_beside_test_results_are_captioned_by_their_model(tmp_path):
    # freqprobe writes filters and sensitivity output into one RUN/analysis folder: the kernel figures involve no
    # test images, the band figure does.
    import json

    from freqprobe.report.captions import data_context, figure_caption

    folder = tmp_path / "analysis"
    folder.mkdir()
    (folder / "sensitivity.json").write_text(json.dumps({
        "run": "/x/run", "model": "resnet20", "dataset": "fashion-mnist", "filter": "none", "test_images": 500,
    }))
    (folder / "filters.json").write_text(json.dumps({"source": "/x/run", "model": "resnet20", "dataset": "fashion-mnist"}))
    context = data_context(folder, tmp_path)
    kernels = figure_caption(folder / "first_layer_kernels.png", context)
    assert kernels.endswith("Data: kernels of a model trained on Fashion-MNIST; model resnet20 (run run).")
    bands = figure_caption(folder / "band_ablation.png", context)
    assert bands.endswith("Data: Fashion-MNIST, test split (500 images), filter none; model resnet20 (run run).")


def test_class_spectra_captions_explain_the_cross_and_name_the_window(tmp_path):
    from freqprobe.report.captions import data_context, figure_caption

    plain = figure_caption(tmp_path / "class_spectra.png", data_context(tmp_path, tmp_path))
    assert "'+' cross" in plain and "jump between opposite image borders" in plain
    assert "class_spectra_hamming.png" in plain
    (tmp_path / "spectrum.json").write_text(json.dumps({"dataset": "fashion-mnist", "split": "test",
                                                       "filter": "none", "window": "hamming"}))
    windowed = figure_caption(tmp_path / "class_spectra_hamming.png", data_context(tmp_path, tmp_path))
    assert "mean is removed before windowing" in windowed
    expected = "Data: Fashion-MNIST, test split, filter none, Hamming window on mean-removed images."
    assert windowed.endswith(expected)


def headline_of(text: str) -> str:
    """The HTML of the page's headline section, which comes before every folder's section."""
    start = text.index('<section id="headline"')
    assert start < text.index('<section id="section-')
    return text[start:text.index("</section>", start)]


def headline_facts(text: str) -> dict[str, str]:
    parser = PageParser()
    parser.feed(headline_of(text))
    return dict(zip(parser.cells[::2], parser.cells[1::2]))


def test_a_run_report_opens_with_its_headline_results(run_tree):
    from freqprobe.tables import format_accuracy

    path, report = write_report(run_tree)
    text = path.read_text(encoding="utf-8")
    facts = headline_facts(text)
    assert facts["data"] == "Fashion-MNIST" and facts["model"] == "resnet20"
    assert facts["input filter"] == "blur:2 (circular boundary)"
    # the numbers of metrics.json and sensitivity.json, formatted as the CLI prints accuracies
    assert facts["test accuracy"] == f"{format_accuracy(0.91234)} on 10000 test images" == "91.23% on 10000 test images"
    assert facts["validation accuracy"] == "90.51%"
    assert facts["clean vs robust (FGSM L-inf eps 2/255)"] == "90.00% clean, 41.00% under attack on 200 test images"
    # what the folder is, counted with correct plurals and without "not recorded" noise
    lead = report.description
    assert lead.startswith("This folder holds a training run (freqprobe train)")
    assert "not recorded" not in text and "(1 figures)" not in text and "(1 figure)" in text
    assert lead.endswith("The page shows 11 tables and 10 figures from 5 folders.")


def test_the_learning_curve_of_a_run_is_shown_once_with_its_headline(tmp_path, make_png):
    run = tmp_path / "run"
    write_run_folder(run)
    make_png(run / "learning_curve.png", "learning curve", 11)
    path, report = write_report(run)
    text = path.read_text(encoding="utf-8")
    top = headline_of(text)
    assert top.count("<img ") == 1 and "learning_curve.png" in top and "Learning curve: loss and accuracy" in top
    assert text.count("<img ") == 1  # not a second time in the run's section
    assert report.description.endswith("The page shows 4 tables and 1 figure.")
    # no curve, no sensitivity.json: the headline has the run's own numbers and nothing invented
    (run / "learning_curve.png").unlink()
    facts = headline_facts(write_report(run)[0].read_text(encoding="utf-8"))
    assert set(facts) == {"data", "model", "input filter", "test accuracy", "validation accuracy", "training"}
    assert facts["training"] == "2 epochs 32 s on cpu"


def test_a_cifar_jpeg_run_names_the_copy_in_its_headline(tmp_path):
    run = tmp_path / "cifar"
    write_run_folder(run, dataset=JPEG_DATASET)
    record = json.loads((run / "config.json").read_text())
    record["config"].update(conv="bandpass:gabor@stem", spectral_reg="highfreq:0.05:0.25@all")
    (run / "config.json").write_text(json.dumps(record))
    (run / "analysis").mkdir()
    (run / "analysis" / "sensitivity.json").write_text(json.dumps({
        "test_images": 500, "heatmap": {"eps": 4.0, "mean_error": 0.6973},
        "attacks": {"pgd-linf-eps0.007843": {"method": "pgd", "norm": "linf", "eps": 2 / 255, "steps": 10,
                                             "clean_accuracy": 0.93, "robust_accuracy": 0.716}}}))
    facts = headline_facts(write_report(run)[0].read_text(encoding="utf-8"))
    assert facts["data"] == "CIFAR-10 (JPEG q75 copy)"
    assert facts["model"] == "resnet20, bandpass:gabor@stem convolutions"
    assert facts["spectral regularizer"] == "highfreq:0.05:0.25@all"
    assert facts["clean vs robust (PGD L-inf eps 2/255, 10 steps)"] == "93.00% clean, 71.60% under attack on 500 test images"
    assert facts["Fourier heat map"] == "mean error 69.73% with a Fourier basis image of L2 norm 4 added"


def test_a_sweep_report_opens_with_its_results_table(sweep_tree):
    path, _ = write_report(sweep_tree)
    top = headline_of(path.read_text(encoding="utf-8"))
    parser = PageParser()
    parser.feed(top)
    assert parser.cells == ["filter", "fashion-mnist test", "fashion-mnist val",
                            "none", "91.20 (n=1)", "90.10 (n=1)", "blur:2", "88.40 (n=1)", "87.90 (n=1)"]
    assert "Accuracy in percent, mean ± sample std." in top


def test_a_compare_report_opens_with_one_row_per_variant(tmp_path):
    rows = [{"run": "a", "robust_attack": "pgd-linf-eps0.03137"}]
    variants = [
        {"dataset": "fashion-mnist", "model": "resnet20", "label": label, "runs": runs,
         "stats": {"clean_accuracy": {"mean": clean, "std": std, "n": len(runs)},
                   "robust_accuracy": {"mean": 0.25, "std": None, "n": len(runs)}}}
        for label, runs, clean, std in (("highpass:12", ["x"], 0.9, None), ("highpass:2", ["y", "z"], 0.91234, 0.0051))
    ]
    (tmp_path / "compare.json").write_text(json.dumps({"sweep": "s", "rows": rows, "variants": variants}))
    top = headline_of(write_report(tmp_path)[0].read_text(encoding="utf-8"))
    parser = PageParser()
    parser.feed(top)
    assert parser.cells[6:] == [
        "Fashion-MNIST", "resnet20", "highpass:2", "2", "91.23 ± 0.51", "25.00",  # natural order: 2 before 12
        "Fashion-MNIST", "resnet20", "highpass:12", "1", "90.00", "25.00",
    ]
    assert "robust: PGD L-inf eps 8/255" in top


def test_a_folder_holding_a_sweep_opens_with_the_results_below_it(sweep_tree):
    # one level above the sweep: a folder that is no freqprobe output itself, only holds some
    parent = sweep_tree.parent
    path, report = write_report(parent, parent / "page.html")
    assert report.kind == "figures"
    assert report.description == (
        "This folder holds freqprobe output: 1 sweep, 1 comparison, 1 dataset spectrum, 2 training runs and 1 folder "
        "of other figures and tables. The page shows 14 tables and 6 figures from 6 folders.")
    top = headline_of(path.read_text(encoding="utf-8"))
    # compare.json of the fixture has rows but no variants: nothing to tabulate there, so the sweep's table shows
    assert "Results (sweep/results.md)" in top and "91.20 (n=1)" in top
    # a comparison with variants comes first: it holds the robust accuracy too
    compare = sweep_tree / "compare" / "compare.json"
    variants = [{"dataset": "fashion-mnist", "model": "resnet20", "label": "blur:2", "runs": ["r"],
                 "stats": {"clean_accuracy": {"mean": 0.884, "std": None, "n": 1}}}]
    compare.write_text(json.dumps({**json.loads(compare.read_text()), "variants": variants}))
    top = headline_of(write_report(parent, parent / "page.html")[0].read_text(encoding="utf-8"))
    assert "Results (sweep/compare/compare.json)" in top and "88.40" in top and "results.md" not in top


def test_a_run_with_its_own_page_is_linked_not_inlined(sweep_tree):
    run = sweep_tree / "runs" / "fashion-mnist__resnet20__blur-2__seed0"
    save_figure(run / "analysis" / "heatmap.png", "heat map", 9)
    write_json(run / "analysis" / "sensitivity.json", {"run": "..", "subset": 10})
    assert main(["report", str(run)]) == 0  # the run's own page: its figures and analysis inlined
    own, own_page = parse(run / REPORT_FILE)
    assert len(own_page.images) == 3 and "analysis/heatmap.png" in own
    path, report = write_report(sweep_tree)
    text, page = parse(path)
    link = "runs/fashion-mnist__resnet20__blur-2__seed0/report.html"
    assert f'<a href="{link}">{link}</a>' in text
    assert "heatmap.png" not in text and "figures/curves.png" not in text and "analysis" not in [
        section.title.rsplit("/", 1)[-1] for section in report.sections]
    assert "<h3>Final metrics (metrics.json)</h3>" in text  # the run's metrics stay on the sweep page
    elsewhere = sweep_tree.parent / "pages" / "sweep.html"  # --out in another folder: the link still reaches it
    write_report(sweep_tree, elsewhere)
    assert f'href="../sweep/{link}"' in elsewhere.read_text(encoding="utf-8")
    # two compare figures, the JPEG spectrum and the other run's learning curve; none of the linked run's three
    assert len(page.images) == 4 and "fashion-mnist__resnet20__blur-2__seed0/" not in " ".join(
        image.get("alt", "") for image in page.images)


def test_link_figures_from_the_command_line_names_each_png_beside_the_page(sweep_tree):
    run = sweep_tree / "runs" / "fashion-mnist__resnet20__blur-2__seed0"
    save_figure(run / "analysis" / "heat map #1.png", "heat map", 9)
    assert main(["report", str(run), "--link-figures"]) == 0
    text, page = parse(run / REPORT_FILE)
    sources = sorted(image["src"] for image in page.images)
    assert "analysis/heat%20map%20%231.png" in sources  # URL-quoted, relative to the page
    for source in sources:
        assert (run / unquote(source)).is_file(), source
    assert "base64" not in text


def test_linked_figures_from_a_page_in_another_and_symlinked_folder_resolve_as_a_browser_does(sweep_tree, tmp_path):
    # a browser resolves "../" in a file URL by text: through a symlinked --out folder the links must still land
    elsewhere = tmp_path / "disk" / "a" / "b" / "pages"
    elsewhere.mkdir(parents=True)
    pages = sweep_tree.parent / "pages"
    pages.symlink_to(elsewhere, target_is_directory=True)
    run = sweep_tree / "runs" / "fashion-mnist__resnet20__blur-2__seed0"
    save_figure(run / "analysis" / "heatmap.png", "heat map", 9)
    assert main(["report", str(run), "--out", str(pages / "run.html"), "--link-figures"]) == 0
    text, page = parse(pages / "run.html")
    sources = [unquote(image["src"]) for image in page.images]
    assert sources and all(source.startswith("../sweep/runs/") for source in sources)
    for source in sources:
        assert Path(os.path.normpath(pages / source)).is_file(), source
    assert "keep this page and its folder in place" in text
