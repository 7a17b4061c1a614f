"""The model-source grammar: one parser for registered names, tv:, timm: and py: factories, and --model-arg values."""

from __future__ import annotations

import pytest

from freqprobe.errors import ConfigError
from freqprobe.models.sources import (
    ModelSpec,
    canonical_model_args,
    parse_model_arg_value,
    parse_model_args,
    parse_model_spec,
)


@pytest.mark.parametrize(
    "text, kind, name, attribute, external",
    [
        ("resnet20", "registered", "resnet20", None, False),
        ("tv:mobilenet_v2", "tv", "mobilenet_v2", None, True),
        ("timm:resnet18.a1_in1k", "timm", "resnet18.a1_in1k", None, True),
        ("py:my_pkg.nets:build", "py", "my_pkg.nets", "build", True),
        ("py:nets/mynet.py:build", "py", "nets/mynet.py", "build", True),
        ("py:C:/models/net.py:Net", "py", "C:/models/net.py", "Net", True),
    ],
)
def test_each_form_parses_to_its_kind_and_back_to_its_text(text, kind, name, attribute, external):
    spec = parse_model_spec(text)
    assert spec == ModelSpec(kind, name, attribute)
    assert spec.text == text and spec.is_external is external
    assert parse_model_spec(spec.text) == spec


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "is not a model name"),
        ("hf:resnet", "unknown prefix 'hf:'"),
        ("tv:", "tv: needs a model name"),
        ("py:mynet.py", "needs a module or file and a callable"),
        ("py:my-net:build", "neither a dotted module name nor a .py file"),
        ("py:mynet.py:2build", "needs a module or file and a callable"),
    ],
)
def test_malformed_specs_are_one_line_naming_the_spec_and_the_grammar(text, fragment):
    with pytest.raises(ConfigError) as error:
        parse_model_spec(text)
    message = str(error.value)
    assert fragment in message and "\n" not in message


def test_model_arg_values_read_as_bool_int_float_or_text():
    assert parse_model_args(["width=2", "drop=0.25", "pretrained=False", "act=gelu", "eps=1e-5", "name=a=b"]) == {
        "width": 2, "drop": 0.25, "pretrained": False, "act": "gelu", "eps": 1e-5, "name": "a=b",
    }  # fmt: skip
    assert type(parse_model_arg_value("2")) is int and type(parse_model_arg_value("2.0")) is float
    assert parse_model_arg_value("nan") == "nan"  # not a finite number: kept as text


def test_canonical_model_args_are_sorted_parsed_values():
    assert canonical_model_args(["width=02", "bias=TRUE", "drop=.5"]) == ["bias=true", "drop=0.5", "width=2"]


@pytest.mark.parametrize("item", ["width", "2x=1", "=3", "with space=1"])
def test_a_model_arg_without_a_python_key_is_refused(item):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_model_args([item])
