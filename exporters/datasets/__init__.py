"""Datasets the project generates itself (no download): the shapes world."""

from exporters.datasets.shapes import (AUGMENTATIONS, SHAPES_VERSION, SPLITS, make_scene, render_pair,
                                       shapes_augmentation, shapes_dataset, shapes_subset)

__all__ = ["AUGMENTATIONS", "SHAPES_VERSION", "SPLITS", "make_scene", "render_pair",
           "shapes_augmentation", "shapes_dataset", "shapes_subset"]
