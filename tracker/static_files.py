"""Static files as a phone on a weak network wants them: named by their content, compressed
once, cached for a year.

When the app starts it makes (once per content of static/, reused by every later start) a
copy in which each file a browser fetches also has a name carrying a hash of its content
(`css/app.3f9c2e1a7b40.css`), with its gzip and brotli versions beside it; the url() of a
stylesheet point at the hashed names. WhiteNoise serves that copy at /static/: a hashed
name with `Cache-Control: public, max-age=31536000, immutable` (a change of content is a
new name, so a phone never asks twice), in the compression the browser accepts.
`url_for("static", filename=...)` gives the hashed name.

Left out of the copy: the TTF fonts (the PDFs use them; pages get WOFF2 subsets), licences
and notes, the stylesheet sources.
"""

import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import brotli

SKIPPED_SUFFIXES = {".md", ".txt", ".ttf", ".scss"}
COMPRESSED_SUFFIXES = {".css", ".js", ".svg", ".json", ".webmanifest", ".html", ".map"}
HASH_LENGTH = 12
HASHED = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.[A-Za-z0-9]+$")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
IMMUTABLE = "public, max-age=31536000, immutable"


def served(path: Path) -> bool:
    """Whether a file of static/ is one a browser fetches."""
    return path.suffix not in SKIPPED_SUFFIXES and not path.name.startswith(("LICENSE", "."))


@cache
def source_digest(root: Path) -> str:
    """A hash of every served file's name and content: the build's identity."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and served(path):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def hashed_name(relative: str, content: bytes) -> str:
    stem, dot, suffix = relative.rpartition(".")
    if not dot or "/" in suffix:
        return f"{relative}.{hashlib.sha256(content).hexdigest()[:HASH_LENGTH]}"
    return f"{stem}.{hashlib.sha256(content).hexdigest()[:HASH_LENGTH]}.{suffix}"


def _point_at_hashed(css: str, relative: str, manifest: dict[str, str]) -> str:
    """A stylesheet's url(...) rewritten to the hashed names of the files they name."""
    folder = Path(relative).parent

    def replace(found: re.Match) -> str:
        target = found.group(2).strip()
        if target.startswith(("data:", "http:", "https:", "/", "#")):
            return found.group(0)
        path, _, rest = target.partition("?")
        path, _, fragment = path.partition("#")
        named = os.path.normpath(folder / path).replace(os.sep, "/")
        if named not in manifest:
            return found.group(0)
        new = os.path.relpath(manifest[named], folder.as_posix() or ".").replace(os.sep, "/")
        return f'url("{new}{"#" + fragment if fragment else ""}")'

    return CSS_URL.sub(replace, css)


def build(root: Path, into: Path) -> tuple[Path, dict[str, str]]:
    """The served copy of `root` under `into` (made unless it is there already) and its
    manifest {name: hashed name}."""
    digest = source_digest(root)
    target = into / digest
    manifest_path = target / "manifest.json"
    if manifest_path.exists():
        return target, json.loads(manifest_path.read_text())
    into.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=into))
    files = sorted(p for p in root.rglob("*") if p.is_file() and served(p))
    manifest: dict[str, str] = {}
    # Stylesheets last: their content (so their hash) depends on the names they point at.
    for path in sorted(files, key=lambda p: p.suffix == ".css"):
        relative = path.relative_to(root).as_posix()
        content = path.read_bytes()
        if path.suffix == ".css":
            content = _point_at_hashed(content.decode(), relative, manifest).encode()
        manifest[relative] = hashed_name(relative, content)
        for name in (relative, manifest[relative]):
            out = work / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(content)
            if path.suffix in COMPRESSED_SUFFIXES:
                out.with_name(out.name + ".gz").write_bytes(
                    gzip.compress(content, compresslevel=9, mtime=0)
                )
                out.with_name(out.name + ".br").write_bytes(brotli.compress(content, quality=11))
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    try:
        work.rename(target)  # all at once: another process never sees half a build
    except OSError:  # another process built the same content meanwhile: keep theirs
        shutil.rmtree(work, ignore_errors=True)
    for old in into.iterdir():  # builds of earlier contents
        if old.is_dir() and old.name != digest and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return target, json.loads(manifest_path.read_text())


def is_hashed(url: str) -> bool:
    return bool(HASHED.search(url))


def add_cache_headers(headers, path: str, url: str) -> None:
    """WhiteNoise's hook: a hashed name is kept a year and never asked again."""
    if is_hashed(url):
        headers["Cache-Control"] = IMMUTABLE


__all__ = ["IMMUTABLE", "add_cache_headers", "build", "is_hashed", "source_digest"]
