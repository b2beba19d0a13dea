"""The parameter table and DecoderConfig: one source for every option."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from pafdecode import Decoder, DecoderConfig, Skeleton, _params
from pafdecode.reference import ReferenceDecoder

ROOT = Path(__file__).resolve().parents[1]
COCO = Skeleton.openpose_coco18()
STAGES = {"peaks", "scoring", "assignment", "assembly", "join", "output"}


def test_the_installed_table_is_the_source_tree_table():
    installed = (Path(_params.__file__).parent / "pd_params.def")
    source = ROOT / "csrc" / "pd_params.def"
    if not source.is_file():
        pytest.skip("no csrc/ beside the tests")
    assert installed.read_text() == source.read_text()


def test_every_row_is_complete_and_its_default_valid():
    names = [p.name for p in _params.PARAMS]
    assert len(names) == len(set(names)) >= 16
    for p in _params.PARAMS:
        assert p.stage in STAGES and p.doc and p.type in ("float", "double", "int", "enum")
        assert p.check(p.default) == p.default
        assert p.minimum <= p.maximum
    assert {"repair_score", "redundant_veto", "assembly", "oks_nms"}.isdisjoint(names)


def test_config_fields_are_the_table_in_order():
    assert [f.name for f in dataclasses.fields(DecoderConfig)] == [
        p.name for p in _params.PARAMS]
    assert DecoderConfig() == DecoderConfig.default()
    for p in _params.PARAMS:
        assert p.name in DecoderConfig.__doc__


def test_presets():
    openpose, crowd, noisy = DecoderConfig.openpose(), DecoderConfig.crowd(), DecoderConfig.noisy()
    assert openpose.shared_peak_score is None and openpose.join_fragments is None
    assert openpose.limb_length_prior is None and openpose.rival_margin is None
    assert crowd.split_merged_peaks == 0.3 and crowd.join_fragments == 0.6
    assert crowd.limb_length_prior == 1.2 and crowd.rival_margin == 0.01
    assert noisy.peak_support == 0.15 and noisy.split_merged_peaks == 1.0
    assert len({openpose, crowd, noisy, DecoderConfig()}) == 4


def test_config_is_frozen_and_replace_validates():
    config = DecoderConfig.crowd()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.peak_radius = 2
    changed = config.replace(assignment="hungarian", peak_radius=2.0)
    assert changed.peak_radius == 2 and isinstance(changed.peak_radius, int)
    assert changed.split_merged_peaks == 0.3 and config.assignment == "greedy"
    with pytest.raises(ValueError, match="peak_radius must be an integer in 1..64, got 99"):
        config.replace(peak_radius=99)
    with pytest.raises(TypeError):
        config.replace(no_such_option=1)
    assert eval(repr(config), {"DecoderConfig": DecoderConfig}) == config


def test_decoder_takes_a_config_and_overrides(backend):
    decoder = Decoder(COCO, DecoderConfig.crowd(), assignment="hungarian", backend=backend)
    assert decoder.config == DecoderConfig.crowd().replace(assignment="hungarian")
    with pytest.raises(AttributeError):
        decoder.config = DecoderConfig()
    assert "DecoderConfig(stride=8.0" in repr(decoder) and "layout='CHW'" in repr(decoder)
    with pytest.raises(TypeError, match="config must be a pafdecode.DecoderConfig"):
        Decoder(COCO, {"assignment": "hungarian"})
    assert ReferenceDecoder(COCO, DecoderConfig.noisy()).config == DecoderConfig.noisy()


def test_record_holds_what_the_core_reads():
    config = DecoderConfig(assignment="hungarian", split_merged_peaks=0.3, max_limb_length=80)
    record = _params.to_record(config)
    assert record.dtype == _params.RECORD_DTYPE and record.shape == ()
    assert record["assignment"] == 1 and record["peak_support"] == 0
    assert record["split_merged_peaks"] == np.float32(0.3)
    assert record["max_limb_length"] == 80.0 and record["min_inlier_ratio"] == 0.8


def test_the_options_doc_holds_the_generated_table():
    doc = ROOT / "docs" / "options.md"
    if not doc.is_file():
        pytest.skip("no docs/ beside the tests")
    text = doc.read_text()
    block = re.search(r"<!-- options-table:start -->\n(.*?)\n<!-- options-table:end -->", text,
                      re.S)
    assert block, "docs/options.md lost its options-table markers"
    assert block.group(1).strip() == _params.markdown_table().strip(), (
        "docs/options.md is stale: paste pafdecode._params.markdown_table() between the markers")
    for p in _params.PARAMS:
        assert f"### `{p.name}`" in text, f"docs/options.md has no section for {p.name}"


def test_c_defaults_are_the_config_defaults():
    kernels = pytest.importorskip("pafdecode._kernels", reason="the C backend is not built")
    assert kernels.default_record().tobytes() == _params.to_record(DecoderConfig()).tobytes()
