"""File extensions by modality, and modality detection for a dataset path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".ogg", ".mp3"})
VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm"})
EXTENSIONS_BY_MODALITY = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "video": VIDEO_EXTENSIONS}


def modality_of_file(path: str | Path) -> str | None:
    """'image', 'audio' or 'video' from the file's extension, or None for anything else."""
    suffix = Path(path).suffix.lower()
    for modality, extensions in EXTENSIONS_BY_MODALITY.items():
        if suffix in extensions:
            return modality
    return None


def detect_modality(files: list[str]) -> str:
    """The most common modality among ``files`` ('image' when there are none)."""
    counts = Counter(m for m in map(modality_of_file, files) if m)
    return counts.most_common(1)[0][0] if counts else "image"
