"""Spec strings, the FILTERS registry, the nn.Module wrappers (fit, buffers, gradients, dtype/device) and the
batched helpers ``apply_in_batches`` / ``channel_stats``."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from freqprobe.errors import ConfigError, DataError, FreqprobeError
from freqprobe.filters import (
    FILTERS,
    BandPass,
    GaussianBlur,
    HighPass,
    Identity,
    LogMagnitude,
    Whiten,
    apply_in_batches,
    band_pass,
    build_filter,
    channel_stats,
    gaussian_blur,
    highpass,
)

ALL_SPECS = ["none", "blur:2", "highpass:1.5", "whiten", "band:0.1:0.3", "logmag"]


def fitted(spec: str, boundary: str = "circular", images: torch.Tensor | None = None):
    images = torch.rand(6, 3, 8, 9) if images is None else images
    return build_filter(spec, boundary).fit(images)


# --- spec strings and registry ------------------------------------------------------------------------------------


def test_registry_holds_exactly_the_documented_filters():
    assert FILTERS.names() == [
        "amplitude-swap", "band", "blur", "highpass", "logmag", "none", "phase", "powerlaw", "whiten"
    ]
    assert [name for name in FILTERS if FILTERS.get(name).requires_fit] == ["phase", "whiten"]


@pytest.mark.parametrize(
    "spec, cls, canonical",
    [
        ("none", Identity, "none"),
        ("blur:2", GaussianBlur, "blur:2"),
        (" Blur : 2.0 ", GaussianBlur, "blur:2"),
        ("highpass:0.75", HighPass, "highpass:0.75"),
        ("whiten", Whiten, "whiten"),
        ("band:0.1:0.25", BandPass, "band:0.1:0.25"),
        ("band:0:.5", BandPass, "band:0:0.5"),
        ("LOGMAG", LogMagnitude, "logmag"),
    ],
)
def test_specs_build_their_filter_and_give_the_canonical_spec_back(spec, cls, canonical):
    layer = build_filter(spec)
    assert type(layer) is cls
    assert layer.spec == canonical
    assert build_filter(layer.spec, layer.boundary).spec == canonical


def test_parameters_and_boundary_reach_the_filter():
    x = torch.rand(2, 3, 10, 12, dtype=torch.float64)
    assert torch.equal(build_filter("blur:1.5", "reflect")(x), gaussian_blur(x, 1.5, "reflect"))
    assert torch.equal(build_filter("highpass:3", "circular")(x), highpass(x, 3.0, "circular"))
    assert torch.equal(build_filter("band:0.05:0.2")(x), band_pass(x, 0.05, 0.2))
    assert torch.equal(build_filter("none")(x), x)
    assert build_filter("blur:1.5", "reflect").boundary == "reflect"


@pytest.mark.parametrize(
    "spec, boundary, message",
    [
        ("sharpen:2", "circular", "unknown filter 'sharpen' in spec 'sharpen:2'; valid: amplitude-swap"),
        ("", "circular", "non-empty string"),
        ("blur", "circular", "filter spec 'blur' has 0 parameter(s), 'blur' takes 1; write it as blur:S"),
        ("blur:1:2", "circular", "has 2 parameter(s)"),
        ("whiten:3", "circular", "'whiten' takes 0"),
        ("none:1", "circular", "'none' takes 0"),
        ("band:0.1", "circular", "'band' takes 2; write it as band:LO:HI"),
        ("blur:abc", "circular", "filter spec 'blur:abc': sigma 'abc' is not a finite number; write it as blur:S"),
        ("blur:", "circular", "sigma '' is not a finite number"),
        ("blur:nan", "circular", "'nan' is not a finite number"),
        ("highpass:inf", "circular", "'inf' is not a finite number"),
        ("band:0.1:x", "circular", "HI 'x' is not a finite number"),
        ("blur:0", "circular", "filter spec 'blur:0': sigma 0 is out of range; use a value in (0, 4096] pixels"),
        ("highpass:-1", "circular", "sigma -1 is out of range; use a value in (0, 4096] pixels"),
        ("blur:1e308", "circular", "sigma 1e+308 is out of range; use a value in (0, 4096] pixels"),
        ("highpass:1e308", "reflect", "sigma 1e+308 is out of range; use a value in (0, 4096] pixels"),
        ("blur:1e10", "circular", "sigma 10000000000 is out of range; use a value in (0, 4096] pixels"),
        ("band:0.3:0.1", "circular", "filter spec 'band:0.3:0.1': band low edge must be below the high edge"),
        ("band:0.2:0.2", "circular", "must be below the high edge"),
        ("band:-0.1:0.2", "circular", "band low edge -0.1 is out of range; use a value in [0, 0.707) cycles/pixel"),
        ("band:0.8:0.9", "circular", "band low edge 0.8 is out of range; use a value in [0, 0.707) cycles/pixel"),
        ("band:0:1e400", "circular", "HI '1e400' is not a finite number"),
        ("blur:2", "mirror", "unknown boundary 'mirror'; valid: circular, reflect"),
    ],
)
def test_bad_specs_raise_one_line_config_errors(spec, boundary, message):
    with pytest.raises(ConfigError) as error:
        build_filter(spec, boundary)
    text = str(error.value)
    assert message in text
    assert "\n" not in text


def test_unknown_filter_error_lists_every_spec_form():
    with pytest.raises(ConfigError) as error:
        build_filter("sharpen")
    for form in ("none", "blur:S", "highpass:S", "whiten", "band:LO:HI", "logmag"):
        assert form in str(error.value)


def test_non_string_spec_is_a_config_error():
    with pytest.raises(ConfigError, match="non-empty string"):
        build_filter(2.0)


# --- whiten: fitting, buffers, state_dict -------------------------------------------------------------------------


def test_unfitted_whiten_raises_a_clear_error():
    layer = build_filter("whiten")
    assert layer.requires_fit and not layer.is_fitted
    with pytest.raises(FreqprobeError, match=r"filter 'whiten' is not fitted; call \.fit"):
        layer(torch.rand(1, 1, 8, 8))


def test_whiten_fit_is_the_float64_mean_amplitude_and_independent_of_batching(cifar_uint8):
    reference = np.abs(np.fft.fft2(cifar_uint8.double().numpy() / 255)).mean(axis=0)
    from_uint8 = build_filter("whiten").fit(cifar_uint8, batch_size=5)
    from_float = build_filter("whiten").fit(cifar_uint8.float() / 255, batch_size=64)
    assert from_uint8.mean_amplitude.shape == (3, 32, 32)
    assert from_uint8.mean_amplitude.dtype == torch.float32
    # float32 FFTs of 32x32 images: absolute rounding ~1e-6, against amplitudes up to ~500 at DC
    np.testing.assert_allclose(from_uint8.mean_amplitude.numpy(), reference, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(from_float.mean_amplitude.numpy(), reference, rtol=1e-6, atol=1e-5)


def test_whiten_statistics_travel_in_the_state_dict(fashion_uint8):
    trained = build_filter("whiten").fit(fashion_uint8)
    state = trained.state_dict()
    assert list(state) == ["mean_amplitude"]
    fresh = build_filter("whiten")
    fresh.load_state_dict(state)
    x = fashion_uint8[:4].float() / 255
    assert fresh.is_fitted
    assert torch.equal(fresh(x), trained(x))
    inside_a_model = torch.nn.Sequential(build_filter("whiten"))
    inside_a_model.load_state_dict(torch.nn.Sequential(trained).state_dict())
    assert torch.equal(inside_a_model(x), trained(x))


def test_stateless_filters_have_empty_state_and_fit_returns_self():
    for spec in ["none", "blur:2", "highpass:2", "band:0.1:0.2", "logmag"]:
        layer = build_filter(spec)
        assert not layer.requires_fit and layer.is_fitted
        assert layer.fit(torch.rand(2, 1, 4, 4)) is layer
        assert layer.state_dict() == {}


@pytest.mark.parametrize(
    "images, error, match",
    [
        (torch.rand(3, 8, 8), ConfigError, r"shape \(N, C, H, W\)"),
        (torch.zeros(0, 1, 8, 8), DataError, "empty"),
        (torch.zeros(2, 1, 8, 8, dtype=torch.int32), ConfigError, "uint8"),
    ],
)
def test_whiten_fit_rejects_bad_images(images, error, match):
    with pytest.raises(error, match=match):
        build_filter("whiten").fit(images)


# --- differentiability, dtype, device -----------------------------------------------------------------------------


@pytest.fixture
def single_thread():
    """gradcheck runs hundreds of tiny FFTs: a thread pool only adds synchronization, which dominates on a busy
    2-core machine (seconds instead of a tenth of one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
@pytest.mark.parametrize("spec", ALL_SPECS + ["blur:12"])
def test_every_filter_passes_float64_gradcheck(spec, boundary, single_thread):
    layer = fitted(spec, boundary).double()
    x = torch.rand(2, 2, 6, 7, dtype=torch.float64, requires_grad=True)
    if spec == "whiten":
        layer = fitted(spec, boundary, torch.rand(5, 2, 6, 7)).double()
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("spec", ALL_SPECS)
def test_filters_keep_dtype_and_shape(spec, dtype):
    x = torch.rand(2, 3, 8, 9).to(dtype)
    layer = fitted(spec)
    out = layer(x)
    assert out.dtype == dtype and out.shape == x.shape
    reference = layer(x.double())
    assert torch.allclose(out.double(), reference, atol=0.05, rtol=0.02)  # half precision rounds the output only


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
@pytest.mark.parametrize("spec", ALL_SPECS)
def test_filters_keep_the_device(spec, boundary):
    # the meta device runs the whole computation without data: any tensor created on the CPU inside would clash
    layer = fitted(spec, boundary).to("meta")
    out = layer(torch.empty(2, 3, 8, 9, device="meta"))
    assert out.device.type == "meta" and out.shape == (2, 3, 8, 9)


@pytest.mark.parametrize("boundary", ["circular", "reflect"])
@pytest.mark.parametrize("spec", ALL_SPECS)
def test_filters_on_the_device_give_the_cpu_result(spec, boundary, dtype, device):
    cpu_layer = fitted(spec, boundary)
    x = torch.rand(2, 3, 8, 9, generator=torch.Generator().manual_seed(1), dtype=dtype)
    expected = cpu_layer(x)
    out = copy.deepcopy(cpu_layer).to(device)(x.to(device))
    assert out.device == device and out.dtype == dtype and out.shape == x.shape
    torch.testing.assert_close(out.cpu(), expected, rtol=1e-5, atol=1e-5)


# --- batched helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["blur:2", "whiten", "logmag"])
def test_apply_in_batches_equals_one_call(fashion_uint8, spec):
    layer = build_filter(spec).fit(fashion_uint8)
    expected = layer(fashion_uint8.float() / 255)
    for batch_size in (7, 64, 1000):
        out = apply_in_batches(layer, fashion_uint8, batch_size)
        assert out.dtype == torch.float32 and out.shape == fashion_uint8.shape
        assert torch.allclose(out, expected, atol=1e-6)
    as_float64 = fashion_uint8.double() / 255  # float input is filtered in its own precision, returned as float32
    assert torch.allclose(apply_in_batches(layer, as_float64, 10), layer(as_float64).float(), atol=1e-6)


@pytest.mark.parametrize("spec", ["none", "highpass:1", "whiten", "band:0.05:0.3"])
def test_channel_stats_match_numpy_over_the_filtered_images(cifar_uint8, spec):
    layer = build_filter(spec).fit(cifar_uint8)
    filtered = layer(cifar_uint8.double() / 255).numpy()
    expected_mean = filtered.mean(axis=(0, 2, 3))
    expected_std = filtered.std(axis=(0, 2, 3))
    for batch_size in (5, 2048):
        mean, std = channel_stats(layer, cifar_uint8, batch_size)
        assert mean.shape == std.shape == (3,)
        assert mean.dtype == std.dtype == torch.float32
        np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(std.numpy(), expected_std, rtol=1e-5)


@pytest.mark.parametrize("spec", ["blur:2", "whiten"])
def test_batched_helpers_computing_on_the_device_return_the_cpu_results(cifar_uint8, spec, device):
    layer = build_filter(spec).fit(cifar_uint8)
    filtered = apply_in_batches(layer, cifar_uint8, 5, device=device)
    assert filtered.device.type == "cpu"
    torch.testing.assert_close(filtered, apply_in_batches(layer, cifar_uint8, 5), rtol=1e-5, atol=1e-6)
    for on_device, on_cpu in zip(channel_stats(layer, cifar_uint8, 5, device=device), channel_stats(layer, cifar_uint8, 5)):
        assert on_device.device.type == "cpu" and on_device.dtype == torch.float32
        torch.testing.assert_close(on_device, on_cpu, rtol=1e-5, atol=1e-7)


def test_channel_stats_of_the_unfiltered_images_are_the_pixel_statistics(fashion_uint8):
    mean, std = channel_stats(build_filter("none"), fashion_uint8, batch_size=9)
    pixels = fashion_uint8.double().numpy() / 255
    np.testing.assert_allclose(mean.item(), pixels.mean(), rtol=1e-6)
    np.testing.assert_allclose(std.item(), pixels.std(), rtol=1e-6)


def test_channel_stats_refuses_a_constant_channel():
    images = torch.full((4, 2, 8, 8), 100, dtype=torch.uint8)
    images[:, 0] = torch.randint(0, 255, (4, 8, 8), dtype=torch.uint8)
    with pytest.raises(DataError, match=r"images filtered by 'highpass:2' are constant in channel\(s\) \[1\]"):
        channel_stats(build_filter("highpass:2"), images)


@pytest.mark.parametrize(
    "images, batch_size, error, match",
    [
        (torch.zeros(0, 1, 4, 4, dtype=torch.uint8), 8, DataError, "empty"),
        (torch.zeros(4, 4, dtype=torch.uint8), 8, ConfigError, r"shape \(N, C, H, W\)"),
        (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), 0, ConfigError, "batch_size must be a positive integer"),
    ],
)
def test_batched_helpers_reject_bad_input(images, batch_size, error, match):
    for helper in (apply_in_batches, channel_stats):
        with pytest.raises(error, match=match):
            helper(build_filter("blur:1"), images, batch_size)
