"""Make the packaged SqueezeNet v1.1 ImageNet base from the shared keras-squeezenet weights file.

    .venv/bin/python packaging/make_squeezenet_base.py [--source ../shared/weights/squeezenet_v1_1_imagenet_notop.h5]
        [--out resources/models]

It builds the Keras 3 base (:func:`workbench.core.image.squeezenet.build_squeezenet_base`), checks the
source file's sha256 against the one in ../shared/weights/README.md, loads it by layer name and writes

- ``squeezenet_v1_1_imagenet_base.weights.h5``: the weights, saved by Keras 3 ``save_weights``;
- ``squeezenet_v1_1_imagenet_base.json``: what the file is, where it came from and how it was made;
- ``LICENSE.squeezenet``: the licence of the converted weights, from the source's licence file.

The source file is never copied: the outputs are this command's own, made from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED_WEIGHTS = ROOT.parent / "shared" / "weights"
SOURCE_NAME = "squeezenet_v1_1_imagenet_notop.h5"
SOURCE_SHA256 = "2d935d8c102ad1232484a77da8e6fbdf3ff4ab608974a0d8b6283115ffff204f"
LICENSE_NAME = "LICENSE.squeezenet"
OUT_STEM = "squeezenet_v1_1_imagenet_base"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shown(path: Path) -> str:
    """``path`` relative to the repository root when it can be (no machine paths in the outputs)."""
    try:
        return os.path.relpath(path.resolve(), ROOT)
    except ValueError:
        return path.name


def write_atomically(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the outputs are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SHARED_WEIGHTS / SOURCE_NAME,
                        help="the keras-squeezenet Keras 2 HDF5 weights file (default: %(default)s)")
    parser.add_argument("--license", type=Path, default=None,
                        help=f"its licence file (default: {LICENSE_NAME} beside --source)")
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "models",
                        help="folder for the outputs (default: %(default)s)")
    args = parser.parse_args(argv)
    source: Path = args.source
    license_path: Path = args.license or source.with_name(LICENSE_NAME)

    for path in (source, license_path):
        if not path.is_file():
            print(f"make_squeezenet_base: Expected {path} (see ../shared/weights/README.md). "
                  "Received: no such file", file=sys.stderr)
            return 2
    digest = sha256(source)
    if digest != SOURCE_SHA256:
        print(f"make_squeezenet_base: Expected {source} with sha256 {SOURCE_SHA256}. Received: {digest}",
              file=sys.stderr)
        return 2

    import keras

    from workbench import __version__ as workbench_version
    from workbench.core.image.squeezenet import (
        BLOCKS, MODEL_NAME, WEIGHT_COUNT, build_squeezenet_base, load_caffe_h5_weights,
    )

    model = build_squeezenet_base()
    load_caffe_h5_weights(model, source)
    count = int(model.count_params())
    if count != WEIGHT_COUNT:
        print(f"make_squeezenet_base: Expected {WEIGHT_COUNT} weights. Received: {count}", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / f"{OUT_STEM}.weights.h5"
    # Keras insists on the ".weights.h5" ending, so the temporary file keeps it.
    def save(tmp: Path) -> None:
        named = tmp.with_name(tmp.name + ".weights.h5")
        try:
            model.save_weights(named)
            os.replace(named, tmp)
        finally:
            named.unlink(missing_ok=True)

    write_atomically(weights_path, save)

    command = "python packaging/make_squeezenet_base.py"
    if args.source != SHARED_WEIGHTS / SOURCE_NAME:
        command += f" --source {shown(source)}"
    if args.license is not None:
        command += f" --license {shown(license_path)}"
    if args.out != ROOT / "resources" / "models":
        command += f" --out {shown(out)}"
    sidecar = {
        "format": "workbench-pretrained-base/1",
        "what": "SqueezeNet v1.1 convolutional base (conv1 … fire9, no classifier) with ImageNet-1k weights, "
        "as a Keras 3 weights file for workbench.core.image.squeezenet.build_squeezenet_base. Input: "
        "caffe-style preprocessed BGR (CaffePreprocess), any size >= about 64 pixels; output: 512 channels.",
        "architecture": {
            "name": MODEL_NAME,
            "paper": "Iandola et al. 2016, SqueezeNet: AlexNet-level accuracy with 50x fewer parameters "
            "and <0.5MB model size (arXiv:1602.07360), v1.1",
            "blocks": [block for block, _ in BLOCKS],
            "weight_count": count,
        },
        "file": weights_path.name,
        "sha256": sha256(weights_path),
        "source": {
            "file": source.name,
            "sha256": digest,
            "path": shown(source),
            "format": "Keras 2 HDF5 weights file (layer_names, keras_version attributes)",
        },
        "origin": [
            {"what": "SqueezeNet v1.1 Caffe model trained on ImageNet-1k", "by": "DeepScale (forresti/SqueezeNet)",
             "licence": "BSD 2-clause"},
            {"what": "conversion of the Caffe model to Keras weights", "by": "keras-squeezenet (rcmalli)",
             "commit": "62b3f05", "licence": "MIT", "licence_file": LICENSE_NAME},
        ],
        "command": command,
        "versions": {
            "workbench": workbench_version,
            "python": ".".join(map(str, sys.version_info[:3])),
            "keras": keras.__version__,
            "h5py": __import__("h5py").__version__,
        },
    }
    write_atomically(out / f"{OUT_STEM}.json",
                     lambda tmp: tmp.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n"))

    header = (
        f"This licence covers {weights_path.name} in this folder: SqueezeNet v1.1 ImageNet weights converted "
        "from DeepScale's Caffe model (BSD 2-clause) by the keras-squeezenet project (commit 62b3f05). "
        f"Written by `{command}` from {license_path.name}, the licence of {source.name}.\n\n"
    )
    write_atomically(out / LICENSE_NAME, lambda tmp: tmp.write_text(header + license_path.read_text()))
    print(f"make_squeezenet_base: wrote {shown(weights_path)} ({count:,} weights, "
          f"{weights_path.stat().st_size:,} bytes), {OUT_STEM}.json and {LICENSE_NAME} in {shown(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
