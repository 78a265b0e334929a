"""Image sizes seen by the dataset scan, and the input size they suggest (numpy only).

The scan decodes every image to check it (:meth:`ImageModality.verify_file`); its width, height and
channel count come with that decode at no cost. These statistics say what the files are — and so what
an input size should be: computing at more pixels than the photos hold buys nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The ImageNet backbones were trained at 224 px: above it a transfer model costs time for little gain.
LARGEST_PROPOSED_SIDE = 224
#: Below this a backbone's features lose most of what makes them worth transferring.
SMALLEST_PROPOSED_SIDE = 64
SIDE_STEP = 32


def image_statistics(infos: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Width and height (min / median / max), channel counts (``{"1": n, "3": n}``) and the five
    commonest sizes (``{"640x480": n}``) of the scanned images; None when there are none."""
    infos = [i for i in infos if "width" in i and "height" in i]
    if not infos:
        return None
    widths = np.array([i["width"] for i in infos], np.int64)
    heights = np.array([i["height"] for i in infos], np.int64)
    channels: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for info in infos:
        key = str(int(info.get("channels", 1)))
        channels[key] = channels.get(key, 0) + 1
        size = f"{info['width']}x{info['height']}"
        sizes[size] = sizes.get(size, 0) + 1
    return {
        "files": len(infos),
        "width_min": int(widths.min()), "width_median": int(np.median(widths)), "width_max": int(widths.max()),
        "height_min": int(heights.min()), "height_median": int(np.median(heights)),
        "height_max": int(heights.max()),
        "channels": dict(sorted(channels.items(), key=lambda kv: int(kv[0]))),
        "sizes": dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:5]),
    }


def median_short_side(infos: list[dict[str, Any]]) -> int | None:
    sides = [min(int(i["width"]), int(i["height"])) for i in infos if "width" in i and "height" in i]
    return int(np.median(sides)) if sides else None


def proposed_side(short_side: int, minimum: float | None = None, maximum: float | None = None) -> int:
    """A square input side for images whose median short side is ``short_side``: that side rounded up to a
    multiple of 32, kept within 64–224 px (and the hyperparameter's own range)."""
    side = -(-int(short_side) // SIDE_STEP) * SIDE_STEP
    side = min(max(side, SMALLEST_PROPOSED_SIDE), LARGEST_PROPOSED_SIDE)
    if minimum is not None:
        side = max(side, int(minimum))
    if maximum is not None:
        side = min(side, int(maximum))
    return side


def describe_image_files(stats: dict[str, Any] | None, infos: list[dict[str, Any]]) -> list[str]:
    """Lines on the sizes and colour of the scanned images."""
    if not stats or not stats.get("files"):
        return []
    colour = {"1": "grayscale", "2": "grayscale with alpha", "3": "colour", "4": "colour with alpha"}
    kinds = ", ".join(f"{colour.get(c, c + ' channels')} ×{n:,}" for c, n in (stats.get("channels") or {}).items())
    same = stats["width_min"] == stats["width_max"] and stats["height_min"] == stats["height_max"]
    size = (f"all {stats['width_min']}×{stats['height_min']} px" if same else
            f"{stats['width_min']}–{stats['width_max']} px wide, {stats['height_min']}–{stats['height_max']} px "
            f"high (median {stats['width_median']}×{stats['height_median']})")
    return [f"{stats['files']:,} images, {size}; {kinds}."]


def propose_image_hparams(infos: list[dict[str, Any]], spec,
                          hp: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(values, reasons)``: the input side (``image_size``) these images suggest, for a template that
    has one; nothing for a template of a fixed input size."""
    if "image_size" not in {h.name for h in spec.hyperparameters}:
        return {}, {}
    short = median_short_side(infos)
    if short is None:
        return {}, {}
    size = spec.hyperparameter("image_size")
    side = proposed_side(short, size.minimum, size.maximum)
    why = (f"the images' median short side is {short} px"
           + (f"; above {LARGEST_PROPOSED_SIDE} px (the backbones' own size) costs time for little gain"
              if short > LARGEST_PROPOSED_SIDE else
              f"; below {SMALLEST_PROPOSED_SIDE} px a backbone's features lose their worth"
              if short < SMALLEST_PROPOSED_SIDE else ": no more pixels than the photos hold"))
    return {"image_size": side}, {"image_size": why}
