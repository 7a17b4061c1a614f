"""The ``--corruptions`` step of ``freqprobe sensitivity``: evaluate the run under the CIFAR-10-C corruptions
(:mod:`freqprobe.corruptions`), link the errors to the run's Fourier heat map, write the ``corruptions`` section,
its two figures and print the table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import torch

from freqprobe.errors import ConfigError


def check_corruption_inputs(document: dict, options, results_path: Path) -> None:
    """Refuse (one line) before any work: no heat map to link to, unreadable release or baseline."""
    if "heatmap" not in document and not options.heatmap:
        raise ConfigError(
            f"--corruptions links errors to the run's Fourier heat map, and {results_path} has none; add --heatmap "
            f"(it runs first) or run `freqprobe sensitivity RUN --out {results_path.parent} --heatmap` before"
        )
    if options.ce_baseline is not None:
        from freqprobe.corruptions.summary import read_baseline

        read_baseline(options.ce_baseline)


def corruption_step(
    document: dict, run, images, labels, test, settings, options, title: str, out_dir: Path,
    add_figure: Callable[[dict, str, str, str], None], say: Callable[[object, str], None],
) -> None:
    from freqprobe.corruptions.evaluation import evaluate_corruptions
    from freqprobe.corruptions.summary import mean_corruption_error_against, read_baseline, table_lines
    from freqprobe.plots.corruptions import plot_corruption_errors, plot_predicted_vs_measured

    released, rows = None, None
    if options.corruption_data is not None:
        released, rows = _released_rows(options.corruption_data, test, len(labels))
    heat = document["heatmap"]
    heat_map = torch.tensor([[math.nan if v is None else v for v in row] for row in heat["error"]], dtype=torch.float64)
    if tuple(heat_map.shape) != tuple(images.shape[-2:]):
        raise ConfigError(f"the heat map is {tuple(heat_map.shape)} but the images are {tuple(images.shape[-2:])}; "
                          f"rerun --heatmap")
    from freqprobe.corruptions import ALL

    section = evaluate_corruptions(
        run.model, images, labels, run.input_filter, names=options.corruption_names or ALL, seed=options.seed, settings=settings, heat_map=heat_map,
        released=released, released_rows=rows, progress=(lambda line: say(options, line)),
    )
    section["heat_map_images"] = heat.get("n_images")
    section["heat_map_eps"] = heat.get("eps")
    section["mce"] = None
    if options.ce_baseline is not None:
        baseline = read_baseline(options.ce_baseline)
        section["mce"] = mean_corruption_error_against(section["per_corruption"], baseline, Path(options.ce_baseline).name)
    document["corruptions"] = section
    errors_file, prediction_file = options.figure("corruptions"), options.figure("corruptions_prediction")
    plot_corruption_errors(section, title, out_dir / errors_file)
    plot_predicted_vs_measured(section, title, out_dir / prediction_file)
    source = "released CIFAR-10-C images" if released is not None else "torch CIFAR-10-C corruptions (frost synthesized)"
    add_figure(
        document, "corruptions", errors_file,
        f"Test error of {title} under the {source}: bars the mean over severities 1-5, dots each severity, coloured "
        f"by the frequency band holding the centroid of the corruption's perturbation spectrum (low < 1/8, mid < 1/4, "
        f"high >= 1/4 cycles/pixel); * marks the 4 extra corruptions; dashed: clean error.",
    )
    add_figure(
        document, "corruptions_prediction", prediction_file,
        f"Error each corruption is predicted to cause from the Fourier heat map ({heat.get('n_images')} images, "
        f"L2 norm {heat.get('eps')}) weighted by its perturbation power spectrum, against the measured mean error of "
        f"{title}; Spearman's rank correlation across corruptions in the title.",
    )
    if options.progress:
        print("\n".join(table_lines(section)))
        for note in section["approximations"]:
            print(f"note: {note}")


def _released_rows(path: str, test, count: int):
    """The release and the rows of its severity blocks that match the run's test selection (same rule)."""
    from freqprobe.corruptions.released import open_release
    from freqprobe.train.prepare import stratified_first

    released = open_release(path)
    if len(released.labels) < count:
        raise ConfigError(f"--corruption-data {path} holds {len(released.labels)} images per severity, fewer than "
                          f"the {count} asked; lower --subset")
    rows = stratified_first(released.labels, count) if count < len(released.labels) else torch.arange(count)
    return released, rows
