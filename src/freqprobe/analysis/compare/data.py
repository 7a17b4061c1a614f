"""The data of a run as compare needs it: its splits (loaded once per setting), its fitted input filter, and the
mean spectral centroid of its filtered training images (computed once per variant)."""

from __future__ import annotations

from typing import Any

from freqprobe.analysis.compare.runs import RunRecord


class RunData:
    """Loads each dataset's splits once and rebuilds each run's input filter with the state it was fitted with."""

    def __init__(self, data_dir: str | None = None):
        self.data_dir = data_dir
        self._splits: dict[tuple, Any] = {}

    def splits(self, run: RunRecord):
        """The run's train/val/test splits (its val_fraction and split_seed), loaded once per setting."""
        from freqprobe.data import load_splits, resolve_root

        root = resolve_root(self.data_dir or run.run.data_dir)
        config = run.config
        key = (run.dataset, str(root), config.get("val_fraction", 0.2), config.get("split_seed", 0),
               config.get("image_size"))
        if key not in self._splits:
            self._splits[key] = load_splits(
                run.dataset, root=root, val_fraction=key[2], seed=key[3], image_size=key[4]
            )
        return self._splits[key]

    def train_subset(self, run: RunRecord, count: int):
        """The first ``count`` stratified training images (the trainer's ``subset`` rule)."""
        return first_stratified(self.splits(run).train, count)

    def test_subset(self, run: RunRecord, count: int):
        """The first ``count`` stratified test images (the trainer's ``limit_eval`` rule)."""
        return first_stratified(self.splits(run).test, count)

    @staticmethod
    def input_filter(run: RunRecord):
        """The run's filter with the state fitted on its training split (``checkpoint.pt``); like ``sensitivity``,
        a fitted filter whose state is missing is refused (FreqprobeError naming the file), never refitted."""
        return run.run.load_input_filter()


class InputCentroids:
    """Mean spectral centroid and radial power slope of each (dataset, filter) variant's filtered training images,
    computed once each."""

    def __init__(self, data: RunData, subset: int):
        self.data = data
        self.subset = subset
        self._values: dict[tuple, tuple[float, float | None]] = {}

    def of_run(self, run: RunRecord) -> float:
        return self._statistics(run)[0]

    def slope_of_run(self, run: RunRecord) -> float | None:
        """The slope of log power against log radius of the mean radial power profile (None where undefined)."""
        return self._statistics(run)[1]

    def _statistics(self, run: RunRecord) -> tuple[float, float | None]:
        from freqprobe.spectra import compute_dataset_spectrum

        key = self.key(run)
        if key not in self._values:
            train = self.data.train_subset(run, self.subset)
            result = compute_dataset_spectrum(
                train.images, train.labels, train.classes, transform=self.data.input_filter(run)
            )
            self._values[key] = (float(result.centroids.mean()), input_slope(result.overall_mean_power()))
        return self._values[key]

    @staticmethod
    def key(run: RunRecord) -> tuple:
        config = run.config
        return (
            run.dataset,
            run.filter,
            run.boundary,
            config.get("val_fraction", 0.2),
            config.get("split_seed", 0),
            config.get("data_dir"),
        )


# Rings whose mean power is below this share of the strongest ring's are left out of the slope: a filter that
# removes a band (a blur, an ideal band pass) leaves float32 round-off there, about 1e-14 of the peak, whose own
# slope would otherwise decide the fit (blur:4 then ranked above blur:2).
SLOPE_FLOOR = 1e-10


def input_slope(mean_power) -> float | None:
    """Least-squares slope of log power against log |f| of a (H, W) mean power spectrum's radial profile, over the
    rings above ``SLOPE_FLOOR`` of the strongest (:func:`freqprobe.spectra.power_law_slope`); None where fewer than
    two rings remain."""
    import math

    from freqprobe.spectra import power_law_slope, radial_profile

    radii, profile = radial_profile(mean_power)
    kept = profile > SLOPE_FLOOR * profile.max()
    slope = power_law_slope(radii[kept], profile[kept])
    return slope if math.isfinite(slope) else None


def first_stratified(split, count: int):
    """The first ``count`` images of ``split``, round-robin over classes; the split itself when it is not larger."""
    from freqprobe.train.prepare import stratified_first

    if count >= len(split):
        return split
    return split.select(stratified_first(split.labels, count))
