#!/usr/bin/env python3
"""Writes a PEP 503 wheel index laid out like the PyTorch one (<root>/<variant>/<project>/), holding
STUB torch and torchaudio wheels, for building examples/worker where no package index is reachable.

The stubs are honest test data, not torch: they carry no tensors, only the surface the worker and
ml-image-build's probe read (torch.__version__, torch.version.cuda, torch.cuda.is_available(),
torchaudio.__version__). Their names and tags follow the real wheels, so pip resolves them the way
it resolves the real index: `torch==2.2.2` from the cu121 index installs 2.2.2+cu121 on x86_64, and
from the cpu index installs 2.2.2+cpu on x86_64 and 2.2.2 (no local tag) on aarch64.

Which wheels exist, and the local tags they carry, come from the action's compatibility table
(src/plan/torch-releases.json): e.g. from 2.6.0 the aarch64 CPU torch wheel is 2.6.0+cpu, and
torch 2.0.1 pairs with torchaudio 2.0.2. A release the table lacks gets the 2.2.x naming.

usage: make_index.py OUT_DIR [--versions 2.2.2,2.2.1] [--variants cu121,cpu]  (default: all the table lists)
"""
import argparse
import base64
import hashlib
import html
import io
import json
import os
import zipfile

PLATFORM_TAGS = {"x86_64": "linux_x86_64", "aarch64": "manylinux2014_aarch64"}
TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "plan", "torch-releases.json")


def load_releases():
    try:
        with open(TABLE) as f:
            return json.load(f)["releases"]
    except OSError:
        return {}


RELEASES = load_releases()


def cuda_of(variant):
    return None if variant == "cpu" else f"{int(variant[2:-1])}.{variant[-1]}"


def wheels_for(version, variant):
    """(machine, torch local tag, torchaudio local tag) for each wheel the real index has."""
    release = RELEASES.get(version)
    if release is None:  # the 2.2.x naming: x86_64 tagged, aarch64 CPU untagged, no aarch64 CUDA
        wheels = [("x86_64", f"+{variant}", f"+{variant}")]
        return wheels + ([("aarch64", "", "")] if variant == "cpu" else [])
    wheels = [("x86_64", f"+{variant}", f"+{variant}")] if variant in release["x86_64"] else []
    arm = release["aarch64"].get(variant)
    if arm is not None:
        wheels.append(("aarch64", arm["torch"], arm["torchaudio"]))
    return wheels


def all_variants(versions):
    found = []
    for v in versions:
        release = RELEASES.get(v)
        for variant in (release["x86_64"] + list(release["aarch64"])) if release else ["cu121", "cpu"]:
            if variant not in found:
                found.append(variant)
    return found


def torchaudio_of(version):
    return RELEASES.get(version, {}).get("torchaudio", version)


def sources(project, version, cuda, torch_version):
    banner = f'"""STUB {project} {version} for offline ml-image-build builds: no tensors, version surface only."""\n'
    if project == "torch":
        return {
            "torch/__init__.py": banner + f"__version__ = {version!r}\nSTUB = True\nfrom . import version, cuda  # noqa: E402,F401\n",
            "torch/version.py": f"__version__ = {version!r}\ncuda = {cuda!r}\n",
            "torch/cuda/__init__.py": "def is_available():\n    return False\n\n\ndef device_count():\n    return 0\n",
        }
    return {"torchaudio/__init__.py": banner + f"__version__ = {version!r}\nSTUB = True\n"}


def build_wheel(project, version, tag, files, requires):
    dist_info = f"{project}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nSummary: STUB {project} for offline builds\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = dict(files)
    files[f"{dist_info}/METADATA"] = meta
    files[f"{dist_info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: ml-image-build make_index.py\nRoot-Is-Purelib: true\nTag: {tag}\n"
    record = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
            z.writestr(path, data)
        record.append(f"{dist_info}/RECORD,,")
        z.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--versions", default="2.2.2")
    ap.add_argument("--variants", default="", help="default: every variant the table lists for the versions (cu121,cpu for releases it lacks)")
    args = ap.parse_args()
    variants = args.variants.split(",") if args.variants else all_variants(args.versions.split(","))
    for variant in variants:
        for project in ("torch", "torchaudio"):
            pdir = os.path.join(args.out, variant, project)
            os.makedirs(pdir, exist_ok=True)
            links = []
            for public in args.versions.split(","):
                for machine, torch_tag, audio_tag in wheels_for(public, variant):
                    if project == "torch":
                        version, requires = public + torch_tag, []
                    else:
                        version, requires = torchaudio_of(public) + audio_tag, [f"torch=={public}"]
                    tag = f"py3-none-{PLATFORM_TAGS[machine]}"
                    data = build_wheel(project, version, tag, sources(project, version, cuda_of(variant), public), requires)
                    name = f"{project}-{version}-{tag}.whl"
                    with open(os.path.join(pdir, name), "wb") as f:
                        f.write(data)
                    sha = hashlib.sha256(data).hexdigest()
                    href = name.replace("+", "%2B")
                    links.append(f'<a href="{href}#sha256={sha}">{html.escape(name)}</a><br/>')
            with open(os.path.join(pdir, "index.html"), "w") as f:
                f.write("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
        with open(os.path.join(args.out, variant, "index.html"), "w") as f:
            f.write('<!DOCTYPE html><html><body><a href="torch/">torch</a><br/><a href="torchaudio/">torchaudio</a></body></html>\n')
    print(f"wrote stub wheel index for {','.join(variants)} x {args.versions} under {args.out}")


if __name__ == "__main__":
    main()
