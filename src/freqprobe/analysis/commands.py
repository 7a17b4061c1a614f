"""``freqprobe filters``: frequency responses, singular values and filter quality of a model's convolutions.

Only argparse is imported at module level: the CLI builds its parser from here on every call.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from freqprobe.plots.formats import add_format_argument, figure_file

FILTERS_FILE = "filters.json"
FILTERS_DESCRIPTION = (
    "Frequency response of every Conv2d kernel on a zero-padded grid: per-kernel spectral centroid, energy above a "
    "cutoff, dominant orientation; per layer their histograms, the mean radial profile, exact singular values on the "
    "layer's input size (Sedghi et al. 2019), CNN-Filter-DB quality statistics and the aliasing share of strided "
    "layers. Writes DIR/filters.json and PNG figures."
)


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "filters", help="kernel frequency responses and filter statistics of a model", description=FILTERS_DESCRIPTION
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a run folder (config.json + model.safetensors), a .safetensors/.pt/.pth file (with --model), or a model "
        "name: resnet20, tv:NAME, timm:NAME, py:module:callable, py:file.py:callable (with --weights FILE|pretrained)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for filters.json and the figures")
    parser.add_argument(
        "--model", metavar="NAME", default=None, help="model name of a weights file SOURCE (registered, tv:, timm:, py:)"
    )
    parser.add_argument(
        "--in-channels",
        type=int,
        metavar="C",
        default=None,
        help="input channels (needed for a registered model's file; tv:/timm:/py: default 3)",
    )
    from freqprobe.train.commands import add_model_source_arguments

    add_model_source_arguments(parser)
    parser.add_argument(
        "--num-classes", type=int, metavar="K", default=None, help="classes (default: from the run or file, else 10)"
    )
    parser.add_argument("--grid", type=int, default=32, metavar="G", help="zero-padded grid side (default: 32)")
    parser.add_argument(
        "--cutoff", type=float, default=0.25, metavar="F", help="high-frequency cutoff |f|, cycles/pixel (default: 0.25)"
    )
    parser.add_argument(
        "--input-size",
        default=None,
        metavar="N|HxW",
        help="size of the dummy input that traces each layer's input size, a side N or HxW such as 224x160 "
        "(default: the run's image size; 224 for tv:/timm:/py: models, 32 with --small-input or for registered "
        "models)",
    )
    parser.add_argument(
        "--compare", metavar="SOURCE2", default=None, help="a second model: per-layer distances of kernel distributions"
    )
    parser.add_argument(
        "--no-singular-values",
        action="store_true",
        help="skip the exact singular values (the slowest part for wide layers); spectral_norm is then null",
    )
    add_format_argument(parser)
    parser.set_defaults(handler=run_filters)


def run_filters(args: argparse.Namespace) -> int:
    from freqprobe.analysis.kernels import analyze_kernels
    from freqprobe.analysis.model_source import conv_layers, load_model_source
    from freqprobe.io import atomic_write_json, output_set, prepare_output_dir
    from freqprobe.plots.kernel_history import FIGURE_FILE as KERNEL_HISTORY_FIGURE
    from freqprobe.plots.kernel_history import plot_kernel_history, read_kernel_history
    from freqprobe.plots.kernels import FIGURE_FILES, write_kernel_figures

    out_dir = prepare_output_dir(args.out, "--out")  # before the analysis: a bad --out costs no minutes
    input_size = None if args.input_size is None else _input_size(args.input_size)
    options = dict(
        weights=args.weights,
        model_args=args.model_args,
        channel_adapter=args.channel_adapter or "repeat",
        small_input=bool(args.small_input),
    )
    source = load_model_source(args.source, args.model, args.in_channels, args.num_classes, **options)
    compare = None
    if args.compare is not None:
        compare = load_model_source(args.compare, args.model, args.in_channels, args.num_classes, **options)
    result = analyze_kernels(
        source,
        grid=args.grid,
        cutoff=args.cutoff,
        input_size=input_size,
        compare=compare,
        singular_values=not args.no_singular_values,
    )
    _name_sources_relative_to(result, out_dir)
    json_path = out_dir / FILTERS_FILE
    # filters.json and its figures are one set; sensitivity's files in the same folder are not touched.
    fmt = args.figure_format
    owned = [figure_file(name, fmt) for name in (*FIGURE_FILES.values(), KERNEL_HISTORY_FIGURE)]
    with output_set(out_dir, FILTERS_FILE, owns=owned) as staging:
        first = dict(conv_layers(source.model))[result["layers"][0]["name"]]
        figures = write_kernel_figures(result, first.weight, staging, fmt)
        history = read_kernel_history(args.source) if Path(args.source).is_dir() else []
        if history:
            figures["kernel_history"] = staging / figure_file(KERNEL_HISTORY_FIGURE, fmt)
            # the source as filters.json names it (relative to the output): no machine path in the title
            plot_kernel_history(history, f"{result['model']} · {result['source']} · {len(history)} epochs",
                                figures["kernel_history"])
        atomic_write_json(staging / FILTERS_FILE, result)
    figures = {name: out_dir / path.name for name, path in figures.items()}
    _print_summary(result)
    if result.get("comparison"):
        _print_comparison(result["comparison"])
    print(f"wrote {json_path}")
    for path in figures.values():
        print(f"wrote {path}")
    return 0


def _name_sources_relative_to(result: dict, out_dir: Path) -> None:
    """Model files and run folders named relative to filters.json's folder, so committed outputs carry no machine
    paths; a description that is not a path ("nn.Module ...") stays as it is."""
    import os

    from freqprobe.io import relative_name

    for section in (result, result.get("comparison") or {}):
        source = section.get("source")
        if isinstance(source, str) and os.path.exists(source):
            section["source"] = relative_name(source, out_dir)


def _print_summary(result: dict) -> None:
    """One line per layer: the numbers a reader looks at first."""
    print(f"{result['model']} from {result['source']}: {result['totals']['conv_layers']} conv layers, "
          f"{result['totals']['kernels']} kernels, grid {result['grid']}, cutoff {result['cutoff']:g}, "
          f"{result['seconds']['total']:.2f} s")
    print("centroid: cycles/pixel; hf ratio: energy share above the cutoff; spec.norm: largest singular value; "
          "aliasing: energy share above the output's Nyquist limit")
    print(f"{'layer':<28} {'kernel':>10} {'centroid':>9} {'hf ratio':>9} {'spec.norm':>9} {'aliasing':>9}  flags")
    for layer in result["layers"]:
        print(
            f"{layer['name']:<28} {_geometry(layer):>10} {_cell(layer['spectral_centroid_mean'])} "
            f"{_cell(layer['high_frequency_ratio'])} {_cell(layer['spectral_norm'])} {_cell(layer['aliasing_share'])}"
            f"  {_flags(layer)}"
        )
    for entry in result.get("skipped_layers", []):
        print(f"skipped {entry['name']} ({entry['type']}): {entry['reason']}")


def _geometry(layer: dict) -> str:
    """Kernel size, then /stride and :dilation where not 1, e.g. 3x3/2 or 3x3:2."""
    text = "x".join(str(size) for size in layer["kernel_size"])
    stride, dilation = layer.get("stride", [1, 1]), layer.get("dilation", [1, 1])
    if stride != [1, 1]:
        text += "/" + ("x".join(map(str, stride)) if stride[0] != stride[1] else str(stride[0]))
    if dilation != [1, 1]:
        text += ":" + ("x".join(map(str, dilation)) if dilation[0] != dilation[1] else str(dilation[0]))
    return text


def _flags(layer: dict) -> str:
    flags = []
    if layer.get("depthwise"):
        flags.append("depthwise")
    elif layer.get("groups", 1) > 1:
        flags.append(f"groups={layer['groups']}")
    if layer.get("spatially_flat"):
        flags.append("spatially flat")
    if layer.get("singular_values") is None and layer.get("notes"):
        flags.append("no singular values (see notes)")
    return ", ".join(flags)


def _input_size(text: str) -> int | tuple[int, int]:
    """N or HxW, positive pixel counts; ConfigError otherwise (one line, as every user error)."""
    from freqprobe.errors import ConfigError

    try:
        sizes = [int(part) for part in text.lower().split("x")]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise ConfigError(f"--input-size {text} is not a positive size; write N (e.g. 224) or HxW (e.g. 224x160)")
    return sizes[0] if len(sizes) == 1 else (sizes[0], sizes[1])


def _print_comparison(comparison: dict) -> None:
    """The per-layer distances of ``--compare``, the rows of filters.json's ``comparison``."""
    print(f"compared with {comparison['source']}: {comparison['measure']} of the per-kernel distributions "
          f"(centroid in cycles/pixel, high-frequency ratio a share of kernel power); mean diff = other - this")
    print(f"{'layer':<28} {'W1 centr.':>9} {'mean diff':>9} {'W1 hf':>9} {'mean diff':>9}")
    for layer in comparison["layers"]:
        print(
            f"{layer['name']:<28} {_cell(layer['spectral_centroid_wasserstein'])} "
            f"{_cell(layer['spectral_centroid_mean_difference'])} {_cell(layer['high_frequency_ratio_wasserstein'])} "
            f"{_cell(layer['high_frequency_ratio_mean_difference'])}"
        )
    if comparison.get("unmatched_layers"):
        print(f"not compared (in one model only, or all-zero kernels): {', '.join(comparison['unmatched_layers'])}")


def _cell(value: float | None) -> str:
    return f"{'-':>9}" if value is None else f"{value:9.4f}"
