"""Shared test helpers: where the reference data lives, and small arrays with known geometry."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "amumo-article"


def need_reference() -> Path:
    """The reference folder, or skip: it is only beside the checkout in CI and on dev machines."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (it sits in ../shared beside the checkout)")
    return REFERENCE


@pytest.fixture
def reference() -> Path:
    return need_reference()


def unit_rows(rng: np.random.Generator, n: int, d: int, shift: np.ndarray | None = None) -> np.ndarray:
    x = rng.normal(size=(n, d))
    if shift is not None:
        x = x + shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


try:  # one torch thread: the suite's models are tiny, and threads only fight over 2 cores
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


# every test (and every command a test runs) uses a throwaway cache, never the repository's
_CACHE = tempfile.mkdtemp(prefix="exporters-test-cache-")
os.environ["EXPORTERS_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(autouse=True)
def _temporary_cache_only():
    """Each test starts and ends with the session's temporary cache: a test that points
    EXPORTERS_CACHE elsewhere must put it back (monkeypatch does), and nothing reaches the
    repository's .embeddings-cache through the default."""
    from exporters.cache import cache_root

    assert os.environ.get("EXPORTERS_CACHE") == _CACHE and cache_root() == Path(_CACHE)
    yield
    assert os.environ.get("EXPORTERS_CACHE") == _CACHE, "a test left EXPORTERS_CACHE pointing elsewhere"


# `make check` (the fast lane) leaves out the tests marked slow. These are marked here, by name,
# from a measured run of the fast lane (`pytest -m "not browser and not build and not slow"
# --durations=60` on 2 shared cores, 2026-11-27; seconds as measured there, all parameters together):
# each took 4 s or more. Each still runs in `make test`. A test file may also mark itself.
SLOW = {
    "tests/test_reference_copy.py::test_derive_regenerates_the_copy_byte_for_byte": 279,
    "tests/test_shipped_models.py::test_recorded_metrics_are_reproduced_from_the_weights": 201,
    "tests/test_shipped_models.py::test_trained_models_retrieve_far_above_chance_and_random_does_not": 0,
    "tests/test_shipped_models.py::test_random_model_already_has_a_gap": 0,   # same fixture as above
    "tests/test_analysis.py::test_projections_are_deterministic": 150,
    "tests/test_figures.py::test_real_similarities_cost_at_most_half_a_byte_per_cell_gzipped": 69,
    "tests/test_analysis.py::test_umap_out_of_sample_places_partners_near": 61,
    "tests/test_reference_proof.py::test_pca_matches_projection_csv": 52,
    "tests/test_reference_copy.py::test_copy_reproduces_the_original_matrices": 48,
    "tests/test_real_config.py::test_every_section_resolves": 44,
    "tests/test_figures.py::test_every_registered_figure_builds": 31,
    "tests/test_figures.py::test_export_is_byte_identical": 29,
    "tests/test_shapes_dataset.py::test_subset_by_substring": 27,
    "tests/test_checkpoints.py::test_rn50_key_mapping_is_complete": 25,
    "tests/test_measures.py::test_inspect_measures_on_the_real_copy": 23,
    "tests/test_sources.py::test_known_tag_without_network_says_what_to_do": 19,
    "tests/test_shipped_models.py::test_cli_train_errors_exit_2": 16,
    "tests/test_scale.py::test_local_shards_equal_the_single_process_path": 15,
    "tests/test_shapes_dataset.py::test_tokenizer_covers_every_caption": 14,
    "tests/test_checkpoints.py::test_cloob_laion_pickle_port": 14,
    "tests/test_reference_copy.py::test_copied_folders_read_as_datasets_and_embeddings": 13,
    "tests/test_checkpoints.py::test_wrong_architecture_and_tampered_files_name_the_file": 11,
    "tests/test_shapes_dataset.py::test_pixels_agree_with_scenes": 10,
    "tests/test_reference_proof.py::test_retrieval_matches_documented_recall": 10,
    "tests/test_figures.py::test_explorer_payload_contents": 10,
    "tests/test_checkpoints.py::test_converter_restores_every_weight": 10,
    "tests/test_shapes_dataset.py::test_bad_names_raise_user_errors": 9,
    "tests/test_shapes_dataset.py::test_captions_are_ambiguous_like_coco": 8,
    "tests/test_scale.py::test_streaming_equals_in_memory_on_synthetic_shards_with_duplicates": 7,
    "tests/test_workflows.py::test_the_linters_do_find_problems": 6,
    "tests/test_workflows.py::test_actionlint_reports_no_findings": 6,
    "tests/test_registry.py::test_refusal_is_one_line_and_exit_2": 5,
    "tests/test_real_config.py::test_bad_inputs_in_the_real_config_are_one_line_errors": 5,
    "tests/test_reference_copy.py::test_derive_refuses_a_folder_that_is_not_the_seed_export": 4,
    "tests/test_figures.py::test_absent_sections_become_notes": 4,
    "tests/test_datasets_files.py::test_coco_bad_inputs_name_the_file": 4,
    # second measured run, once the above were out: numba compiles UMAP here first (55 s), and the
    # shipped models' image pool fixture (10 s)
    "tests/test_warnings.py::test_real_projections_raise_no_unknown_warning": 55,
    "tests/test_shipped_models.py::test_png_path_gives_the_same_pixels_as_the_in_memory_pool": 10,
    "tests/test_shipped_models.py::test_lead_loader_embeds_shipped_model_like_the_trainer": 1,
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("[", 1)[0] in SLOW:
            item.add_marker(pytest.mark.slow)
