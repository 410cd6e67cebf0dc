"""Dataset cards: the README.md written at the root of every image output.

``dataset_card`` returns the text (it writes nothing): a YAML header in the form the
HuggingFace Hub reads (license, task, size, class names, which files make the train split),
then how the data was made (generator, settings, seed, pcfractal version, command), the
layout, how to load it, and the paper to cite. The header is written by hand (no YAML
library needed): every string is a JSON string, which YAML reads as a double-quoted scalar.
"""

from __future__ import annotations

import json
from typing import Sequence

from pcfractal import __version__

LAYOUTS = ("folder", "shards", "both")

# Per kind: display name, paper (one line) and its BibTeX.
PAPERS = {
    "pcfractaldb": (
        "PC-FractalDB",
        'Yamada, Kataoka, Chiba, Domae, Ogata. "Point Cloud Pre-Training With Natural 3D Structures", CVPR 2022',
        """@InProceedings{Yamada_2022_CVPR,
  author    = {Yamada, Ryosuke and Kataoka, Hirokatsu and Chiba, Naoya and Domae, Yukiyasu and Ogata, Tetsuya},
  title     = {Point Cloud Pre-Training With Natural 3D Structures},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2022},
  pages     = {21283-21293}
}""",
    ),
    "exfractaldb": (
        "ExFractalDB",
        'Kataoka et al. "Replacing Labeled Real-Image Datasets With Auto-Generated Contours", CVPR 2022',
        """@InProceedings{Kataoka_2022_CVPR,
  author    = {Kataoka, Hirokatsu and Hayamizu, Ryo and Yamada, Ryosuke and Nakashima, Kodai and Takashima, Sora and Zhang, Xinyu and Martinez-Noriega, Edgar Josafat and Inoue, Nakamasa and Yokota, Rio},
  title     = {Replacing Labeled Real-Image Datasets With Auto-Generated Contours},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2022},
  pages     = {21232-21241}
}""",
    ),
    "fractaldb": (
        "FractalDB",
        'Kataoka et al. "Pre-training without Natural Images", ACCV 2020 / IJCV 2022',
        """@InProceedings{Kataoka_2020_ACCV,
  author    = {Kataoka, Hirokatsu and Okayasu, Kazushige and Matsumoto, Asato and Yamagata, Eisuke and Yamada, Ryosuke and Inoue, Nakamasa and Nakamura, Akio and Satoh, Yutaka},
  title     = {Pre-training without Natural Images},
  booktitle = {Proceedings of the Asian Conference on Computer Vision (ACCV)},
  year      = {2020}
}""",
    ),
    "mvfractaldb": (
        "MV-FractalDB",
        'Yamada et al. "MV-FractalDB: Formula-driven Supervised Learning for Multi-view Image Recognition", IROS 2021',
        """@InProceedings{Yamada_2021_IROS,
  author    = {Yamada, Ryosuke and Takahashi, Ryo and Suzuki, Ryota and Nakamura, Akio and Yoshiyasu, Yusuke and Sagawa, Ryusuke and Kataoka, Hirokatsu},
  title     = {MV-FractalDB: Formula-driven Supervised Learning for Multi-view Image Recognition},
  booktitle = {2021 IEEE/RSJ International Conference on Intelligent Robots and Systems (IROS)},
  year      = {2021},
  pages     = {2076-2083}
}""",
    ),
}
PAPERS["rcdb"] = ("RCDB", PAPERS["exfractaldb"][1], PAPERS["exfractaldb"][2])

# The HuggingFace Hub's size_categories buckets.
_SIZES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]


def size_category(n: int) -> str:
    """The Hub's size bucket for ``n`` samples."""
    for limit, name in _SIZES:
        if n < limit:
            return name
    return "n>1B"


def _q(text) -> str:
    return json.dumps(str(text))


def dataset_card(
    *,
    kind: str,
    class_names: Sequence[str],
    images_per_class: int,
    seed: int,
    settings: dict,
    command: str | None = None,
    layout: str = "folder",
    image_size: int | None = None,
    pretty_name: str | None = None,
    license: str = "cc-by-4.0",
    version: str = __version__,
    split_dir: str = "train",
    shard_dir: str = "shards",
) -> str:
    """README.md text (HuggingFace dataset card) of an image output.

    Args:
        kind: generator name (exfractaldb, fractaldb, rcdb, mvfractaldb...).
        class_names: the class folder names, in label order (label k = class_names[k]).
        images_per_class, seed, settings: what the build used (settings as a JSON-able dict).
        command: the command line that made it (replays it); layout: folder, shards or both.
        image_size: pixels per side; pretty_name: defaults to "<paper name> (<n> classes)".
        license: the data's licence identifier for the Hub; version: pcfractal's version.
        split_dir: the folder of the class folders; shard_dir: the folder of the train-NNNNNN.tar
            shards (both relative to the output).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    names = [str(n) for n in class_names]
    if not names or images_per_class < 1:
        raise ValueError(f"a dataset card needs classes and images, got {len(names)} classes x {images_per_class}")
    display, paper, bibtex = PAPERS.get(kind, (kind, "", ""))
    n_images = len(names) * images_per_class
    pretty = pretty_name or f"{display} ({len(names):,} classes, made with pcfractal)"
    folder_glob, shard_glob = f"{split_dir}/*/*.png", f"{shard_dir}/train-*.tar"
    y = [
        "---",
        f"license: {license}",
        "task_categories:",
        "- image-classification",
        f"pretty_name: {_q(pretty)}",
        "size_categories:",
        f"- {size_category(n_images)}",
        "tags:",
        "- synthetic",
        "- formula-driven-supervised-learning",
        f"- {_q(kind)}",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {_q(shard_glob if layout == 'shards' else folder_glob)}",
    ]
    if layout == "both":
        y += ["- config_name: shards", "  data_files:", "  - split: train", f"    path: {_q(shard_glob)}"]
    y += [
        "dataset_info:",
        "  features:",
        "  - name: image",
        "    dtype: image",
        "  - name: label",
        "    dtype:",
        "      class_label:",
        "        names:",
    ]
    y += [f"          {_q(k)}: {_q(n)}" for k, n in enumerate(names)]
    y += ["---"]

    shown = ", ".join(names[:3]) + (f", ..., {names[-1]}" if len(names) > 4 else "".join(f", {n}" for n in names[3:]))
    body = [
        "",
        f"# {pretty}",
        "",
        f"{len(names):,} classes x {images_per_class:,} images = {n_images:,} images"
        + (f" of {image_size} x {image_size} pixels" if image_size else "")
        + f", made from formulas only by pcfractal {version}"
        + f" (generator `{kind}`). No natural image and no human label: the label of an image is the"
        + " formula (class) it was drawn from.",
        "",
        "## How it was made",
        "",
        f"- generator: `{kind}`" + (f" ({paper})" if paper else ""),
        f"- seed: {seed} (every random draw derives from it and the image's key: the same command gives the same bytes)",
        f"- pcfractal version: {version}",
    ]
    if command:
        body.append(f"- command: `{command}`")
    body += ["- settings:", "", "```json", json.dumps(settings, indent=2, sort_keys=True, default=str), "```", "", "## Layout", ""]
    if layout in ("folder", "both"):
        body.append(
            f"- `{split_dir}/{{class}}/{{class}}_{{image}}.png`: one folder per class ({shown}); label k is the k-th class name in sorted order"
        )
    if layout in ("shards", "both"):
        body.append(
            f"- `{shard_dir}/train-NNNNNN.tar`: webdataset shards, one sample per `{{class}}_{{image}}` key with fields `png` and `cls` (the label);"
            f" `{shard_dir}/_info.json` gives timm's wds reader the split"
        )
    body += [
        "- `classes.json`: the parameters of every class (rebuild any image from them), `images.json`: the build summary,",
        "  `manifest.json`: sha256 of every file (`pcfractal verify DIR`), `gallery.png`: a few images per class",
        "",
        "## Loading",
        "",
        "```python",
    ]
    if layout in ("folder", "both"):
        body += [
            f'torchvision.datasets.ImageFolder("DIR/{split_dir}")',
            f'timm.data.ImageDataset("DIR/{split_dir}")',
            'datasets.load_dataset("DIR")  # or load_dataset("imagefolder", data_dir="DIR/' + split_dir + '")',
        ]
    if layout in ("shards", "both"):
        body += [
            f'webdataset.WebDataset("DIR/{shard_dir}/train-{{000000..NNNNNN}}.tar").decode("pil").to_tuple("png", "cls")',
            f'timm.data.create_dataset("wds/", root="DIR/{shard_dir}", split="train")',
            f'datasets.load_dataset("webdataset", data_files={{"train": "DIR/{shard_dir}/train-*.tar"}})',
        ]
    body += ["```", ""]
    if bibtex:
        body += ["## Citation", "", f"If you use this data, cite {paper}:", "", "```bibtex", bibtex, "```", ""]
    return "\n".join(y + body)
