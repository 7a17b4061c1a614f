"""One reader for a ``freqprobe train`` run folder, shared by every analysis that reads runs.

A run folder holds ``config.json`` (the training config under ``"config"``, or flat; ``"data"`` records
``image_shape`` and ``classes``, ``"filter"`` the filter spec and boundary), ``metrics.jsonl`` (one line per epoch),
``metrics.json`` (the final metrics, written last), ``model.safetensors`` (weights with the normalization buffers) and
``checkpoint.pt`` (whose ``filter_state`` is the input filter's state fitted on the training split).

Policy for a missing piece (one for every reader): an accessor that needs a file or a recorded value raises
:class:`RunFolderError` with one line naming the file and the fix when it is missing, unreadable or incomplete.
Nothing is guessed or recomputed: no image shape from a dataset name (it is read from the run's record, else from the
dataset's own test images), no filter refitted when the fitted state is missing. Only the questions
:meth:`RunFolder.completeness_problem` and :attr:`RunFolder.is_complete` never raise; a caller that goes on without
one run (``compare``) asks them first, or catches the error and notes its line.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from freqprobe.errors import FreqprobeError
from freqprobe.io import read_json_object, read_jsonl
from freqprobe.train.run_folder import RunPaths, read_final_metrics

# Keys of config.json's "data" section that describe the images and labels a run was trained on.
DATA_KEYS = ("image_shape", "classes", "in_channels", "num_classes")
DEFAULT_NUM_CLASSES = 10
ANALYSIS_FOLDER = "analysis"  # where freqprobe filters / sensitivity write for a run, by convention


class RunFolderError(FreqprobeError):
    """A run folder that lacks a piece the caller needs (one line naming the file and the fix)."""


class RunFolder:
    """A run folder read on demand; each file is read at most once.

    Raises (from the accessors, see the module docstring): :class:`RunFolderError`.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.paths = RunPaths(self.root)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.root)!r})"

    # --- config.json --------------------------------------------------------------------------------------------

    @cached_property
    def info(self) -> dict[str, Any]:
        """The whole ``config.json``."""
        if not self.root.is_dir():
            raise RunFolderError(f"run folder {self.root} does not exist; pass a folder written by freqprobe train")
        try:
            return read_json_object(
                self.paths.config,
                missing=f"{self.root} has no {self.paths.config.name}; pass a folder written by freqprobe train",
                fix="restore it or re-run the training",
            )
        except RunFolderError:
            raise
        except FreqprobeError as error:
            raise RunFolderError(str(error)) from None

    @cached_property
    def config(self) -> dict[str, Any]:
        """The flat training config (``TrainConfig.to_dict()``) plus the ``data`` keys the run recorded
        (``image_shape``, ``classes``, ``in_channels``, ``num_classes``)."""
        info = self.info
        config = dict(info["config"]) if isinstance(info.get("config"), dict) else dict(info)
        data = info.get("data") if isinstance(info.get("data"), dict) else {}
        for key in DATA_KEYS:
            if key not in config and key in data:
                config[key] = data[key]
        return config

    @property
    def dataset(self) -> str:
        return self._required_text("dataset")

    @property
    def model_name(self) -> str:
        return self._required_text("model")

    @property
    def filter_spec(self) -> str:
        """The input filter the run trained with (``none`` when the config records no filter)."""
        return self._filter_field("filter", "spec", "none")

    @property
    def boundary(self) -> str:
        return self._filter_field("boundary", "boundary", "circular")

    @property
    def data_dir(self) -> str | None:
        value = self.config.get("data_dir")
        return value if isinstance(value, str) and value else None

    # --- metrics ------------------------------------------------------------------------------------------------

    @property
    def metrics(self) -> dict[str, Any]:
        """The final metrics (``metrics.json``, fractions for accuracies)."""
        found = read_final_metrics(self.root)
        if found is None:
            raise RunFolderError(
                f"{self.paths.metrics} is missing or holds no final metrics; finish the run "
                f"(freqprobe train --resume {self.root})"
            )
        return found

    def epoch_log(self) -> list[dict[str, Any]]:
        """The per-epoch records of ``metrics.jsonl`` in order (a torn last line is left out)."""
        if not self.paths.metrics_log.is_file():
            raise RunFolderError(
                f"{self.paths.metrics_log} is missing; resume the run (freqprobe train --resume {self.root})"
            )
        return [record for record in read_jsonl(self.paths.metrics_log) if isinstance(record, dict)]

    # --- analyses -----------------------------------------------------------------------------------------------

    def find_analysis(self, filename: str) -> Path | None:
        """Where an analysis of this run is (``filters.json``, ``sensitivity.json``): ``RUN/analysis/<filename>``,
        else ``RUN/<filename>``, else the first ``RUN/analysis/*/<filename>``; None when there is none."""
        analysis = self.root / ANALYSIS_FOLDER
        candidates = [analysis / filename, self.root / filename]
        if analysis.is_dir():
            candidates += sorted(analysis.glob(f"*/{filename}"))
        return next((path for path in candidates if path.is_file()), None)

    # --- completeness -------------------------------------------------------------------------------------------

    def completeness_problem(self) -> str | None:
        """Why the run is not complete, or None: complete means a readable config.json naming a dataset, a valid
        metrics.json, and a whole model.safetensors (header and data size checked). Never raises."""
        from freqprobe.models.io import weights_file_problem

        try:
            self.dataset
        except FreqprobeError as error:
            return str(error)
        if read_final_metrics(self.root) is None:
            return f"{self.paths.metrics} is missing or holds no final metrics (unfinished run)"
        problem = weights_file_problem(self.paths.weights)
        if problem is not None:
            return f"{self.paths.weights} {problem}; retrain the run (freqprobe train --force)"
        return None

    @property
    def is_complete(self) -> bool:
        return self.completeness_problem() is None

    # --- images -------------------------------------------------------------------------------------------------

    def image_shape(self, data_dir: str | None = None) -> tuple[int, int, int]:
        """(C, H, W) of the images the run trained on: recorded in config.json, else those of the dataset's test
        split (loaded from ``data_dir``, else the run's data_dir when it exists, else the default root)."""
        recorded = self.config.get("image_shape")
        if isinstance(recorded, (list, tuple)) and len(recorded) == 3 and all(isinstance(v, int) for v in recorded):
            return int(recorded[0]), int(recorded[1]), int(recorded[2])
        from freqprobe.data import load_dataset, resolve_root

        test = load_dataset(
            self.dataset,
            train=False,
            root=resolve_root(data_dir or self.existing_data_dir()),
            image_size=self.config.get("image_size"),
        )
        return tuple(int(value) for value in test.image_shape)  # type: ignore[return-value]

    def existing_data_dir(self) -> str | None:
        """The run's recorded data root when that folder exists on this machine."""
        folder = self.data_dir
        return folder if folder is not None and Path(folder).is_dir() else None

    def load_splits(self, data_dir: str | None = None):
        """The train / val / test splits (:class:`freqprobe.data.Splits`) of the run's dataset as the run split it:
        its ``val_fraction`` and ``split_seed``. Data root: ``data_dir``, else the run's own data root when that folder
        exists on this machine, else ``$FREQPROBE_DATA`` / the default."""
        from freqprobe.data import load_splits, resolve_root

        return load_splits(
            self.dataset,
            root=resolve_root(data_dir or self.existing_data_dir()),
            val_fraction=float(self.config.get("val_fraction", 0.2)),
            seed=int(self.config.get("split_seed", 0)),
        )

    # --- model and filter ---------------------------------------------------------------------------------------

    def load_model(self, model_name: str | None = None, in_channels: int | None = None, num_classes: int | None = None):
        """The run's model rebuilt from its record (model spec, ``model_args``, channel adapter, ``small_input``;
        antialias and ``conv`` for registered ResNets; a ``py:`` factory from the run's copy of its file) with
        ``model.safetensors`` loaded, in eval mode. Channels and classes: the arguments, else the record, else the
        weights file's own shapes."""
        from freqprobe.models import conv_model_kwargs, load_weights
        from freqprobe.models.build import build_model
        from freqprobe.models.io import weights_file_problem

        weights = self.paths.weights
        problem = weights_file_problem(weights)
        if problem is not None:
            raise RunFolderError(f"{weights} {problem}; finish, resume or retrain the run")
        built = build_model(
            model_name or self.model_name,
            in_channels=int(in_channels or self.in_channels()),
            num_classes=int(num_classes or self.num_classes()),
            model_args=self.config.get("model_args") or [],
            channel_adapter=self.config.get("channel_adapter") or "repeat",
            small_input=bool(self.config.get("small_input")),
            antialias=bool(self.config.get("antialias")),
            width_multiplier=float(self.config.get("width_multiplier", 1.0)),
            python_file=self.model_factory_copy(),
            **conv_model_kwargs(self.config.get("conv") or "standard"),
        )
        return load_weights(built.model, weights).eval()

    @property
    def model_source(self) -> dict[str, Any]:
        """How the model was made (config.json ``model_source``: spec, weights origin, adapter, normalization
        source, ...); empty for runs made before it was recorded."""
        record = self.info.get("model_source")
        return record if isinstance(record, dict) else {}

    def model_factory_copy(self) -> Path | None:
        """The run's copy of a ``py:FILE.py`` factory when it has one."""
        copy = self.model_source.get("file_copy")
        if isinstance(copy, str) and (self.root / copy).is_file():
            return self.root / copy
        return None

    def in_channels(self) -> int:
        """Input channels: recorded, else the length of the weights' ``normalize.mean`` (one value per channel)."""
        recorded = self.config.get("in_channels")
        if isinstance(recorded, int):
            return recorded
        shape = self.config.get("image_shape")
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], int):
            return int(shape[0])
        found = self._weights_shape("normalize.mean")
        if not found:
            raise RunFolderError(
                f"{self.paths.config} records no image_shape and {self.paths.weights} no normalize.mean; "
                f"pass the input channels explicitly (--in-channels)"
            )
        return int(found[0])

    def num_classes(self) -> int:
        """Classes: recorded, else the rows of the weights' ``fc.weight``, else 10."""
        recorded = self.config.get("num_classes")
        if isinstance(recorded, int):
            return recorded
        classes = self.config.get("classes")
        if isinstance(classes, list) and classes:
            return len(classes)
        found = self._weights_shape("fc.weight")
        return int(found[0]) if found else DEFAULT_NUM_CLASSES

    def load_input_filter(self):
        """The run's input filter in eval mode; a filter that needs fitting gets the state fitted on the training
        split from ``filter_state.safetensors`` or ``checkpoint.pt`` (never refitted here)."""
        from freqprobe.filters import build_filter

        input_filter = build_filter(self.filter_spec, self.boundary)
        if input_filter.requires_fit:
            self._load_filter_state(input_filter)
        return input_filter.eval()

    # --- helpers ------------------------------------------------------------------------------------------------

    def _required_text(self, key: str) -> str:
        value = self.config.get(key)
        if not isinstance(value, str) or not value:
            raise RunFolderError(
                f"{self.paths.config} lacks '{key}'; it is not a freqprobe run config (re-run the training)"
            )
        return value

    def _filter_field(self, config_key: str, record_key: str, default: str) -> str:
        if isinstance(self.config.get(config_key), str):
            return self.config[config_key]
        record = self.info.get("filter")
        if isinstance(record, dict) and isinstance(record.get(record_key), str):
            return record[record_key]
        return default

    def _weights_shape(self, key: str) -> list[int] | None:
        """The shape of one tensor of ``model.safetensors``, read from its header; None when absent or unreadable."""
        try:
            from safetensors import safe_open

            with safe_open(str(self.paths.weights), framework="pt") as handle:
                if key in handle.keys():
                    return list(handle.get_slice(key).get_shape())
        except Exception:  # an unreadable file is reported by the weights loader with its own message
            return None
        return None

    def _load_filter_state(self, input_filter) -> None:
        """From ``filter_state.safetensors`` (written at the start of training), else from ``checkpoint.pt``."""
        state_file, checkpoint = self.paths.filter_state, self.paths.checkpoint
        if state_file.is_file():
            source = state_file
            from safetensors.torch import load_file

            try:
                state = load_file(str(state_file))
            except Exception as error:  # noqa: BLE001 - any unreadable file gets the same one line
                raise RunFolderError(f"{state_file} is not a readable safetensors file ({error}); retrain the run") from None
        elif checkpoint.is_file():
            source = checkpoint
            from freqprobe.train.checkpoint import load_checkpoint

            state = load_checkpoint(checkpoint).filter_state
        else:
            raise RunFolderError(
                f"run folder {self.root} has neither {state_file.name} nor {checkpoint.name} with the fitted state of "
                f"filter {input_filter.spec!r}; copy one of them there, or write it with "
                f"`python scripts/refit_filter_state.py {self.root}` (refits on the run's training split), or retrain"
            )
        try:
            input_filter.load_state_dict(state)
        except (RuntimeError, KeyError) as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            raise RunFolderError(
                f"{source} holds no fitted state for filter {input_filter.spec!r} ({reason}); retrain the run"
            ) from None
        if not getattr(input_filter, "is_fitted", True):
            raise RunFolderError(f"{source} holds an unfitted filter {input_filter.spec!r}; retrain the run")
