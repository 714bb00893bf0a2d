#!/usr/bin/env python3
"""Writes, and optionally serves, a wheel index laid out like the PyTorch one (<root>/<variant>/<project>/),
holding STUB torch, torchaudio and torchvision wheels, for building examples/worker where no package index
is reachable, and for the tests of ml-image-build's index preflight.

The stubs are honest test data, not torch: they carry no tensors, only the surface the worker and
ml-image-build's probe read (torch.__version__, torch.version.cuda, torch.cuda.is_available(),
torchaudio.__version__, torchvision.__version__). Their file names follow the real wheels, so pip and the
action's preflight read them the way they read the real index: `torch==2.2.2` from the cu121 index installs
2.2.2+cu121 on x86_64, and from the cpu index 2.2.2+cpu on x86_64 and 2.2.2 (no local tag) on aarch64.

Which wheels exist, for which CPython versions, and the local tags they carry, come from the action's
compatibility table (src/plan/torch-releases.json): e.g. from 2.6.0 the aarch64 CPU torch wheel is
2.6.0+cpu, 2.8.0 has aarch64 CUDA wheels on cu129 only, and 2.4.x's cu124 index has an aarch64 torch but no
aarch64 torchaudio. A release the table lacks follows the table's "unknown" rule, with the newest release's
variants and Python versions. So fixing the table fixes this index.

Serving (--serve PORT) answers as a PEP 691 index would: the JSON form (application/vnd.pypi.simple.v1+json)
when the Accept header prefers it, the PEP 503 HTML form otherwise, and the wheel files themselves.
--html-only answers HTML whatever is asked, as a static server (download.pytorch.org) does. --log FILE
writes one JSON line per request: path, Accept header, what was answered.

usage: make_index.py OUT_DIR [--versions 2.2.2,2.2.1] [--variants cu121,cpu] [--pythons 3.11]
                             [--serve PORT [--bind 127.0.0.1] [--html-only] [--log FILE]]
"""
import argparse
import base64
import hashlib
import html
import http.server
import io
import json
import os
import re
import sys
import urllib.parse
import zipfile

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "plan", "torch-releases.json")
PROJECTS = ("torch", "torchaudio", "torchvision")
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


def load_table():
    try:
        with open(TABLE) as f:
            return json.load(f)
    except OSError:
        return {"releases": {}, "unknown": {"aarch64TorchTaggedFrom": "2.6.0", "aarch64DomainTaggedFrom": "2.10.0"}}


TABLE_DATA = load_table()
RELEASES = TABLE_DATA["releases"]
UNKNOWN = TABLE_DATA["unknown"]


def numbers(version):
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


def newest():
    return RELEASES[max(RELEASES, key=numbers)] if RELEASES else {"x86_64": ["cu121", "cpu"], "aarch64": {"cpu": {}}, "python": ["3.11"]}


def release_of(version):
    """The table's row, or one made by its rule for releases it does not know."""
    if version in RELEASES:
        return RELEASES[version]
    base = newest()
    major, minor, patch = (numbers(version) + (0, 0, 0))[:3]
    torch_tag = lambda v: f"+{v}" if numbers(version) >= numbers(UNKNOWN["aarch64TorchTaggedFrom"]) else ""
    domain_tag = lambda v: f"+{v}" if numbers(version) >= numbers(UNKNOWN["aarch64DomainTaggedFrom"]) else ""
    return {
        "torchaudio": version,
        "torchvision": f"0.{minor + 15}.{patch}",
        "python": base["python"],
        "x86_64": base["x86_64"],
        "aarch64": {v: {"torch": torch_tag(v), "torchaudio": domain_tag(v), "torchvision": domain_tag(v)} for v in base["aarch64"]},
    }


def platform_tag(version, machine, variant):
    """What the real index names them (only the architecture matters to the preflight and to pip here)."""
    if machine == "x86_64":
        return "manylinux_2_28_x86_64" if numbers(version) >= (2, 7, 0) else "linux_x86_64"
    if numbers(version) >= (2, 6, 0):
        return "manylinux_2_28_aarch64"
    return "manylinux_2_17_aarch64.manylinux2014_aarch64" if variant == "cpu" else "linux_aarch64"


def python_tag(py):
    """'3.11' -> cp311-cp311; '3.13t' -> cp313-cp313t."""
    free = py.endswith("t")
    digits = py.rstrip("t").replace(".", "")
    return f"cp{digits}-cp{digits}{'t' if free else ''}"


def wheels_for(version, variant):
    """(machine, {project: local tag or None}) for each machine the real index has wheels of."""
    release = release_of(version)
    out = []
    if variant in release["x86_64"]:
        out.append(("x86_64", {p: f"+{variant}" for p in PROJECTS}))
    arm = release["aarch64"].get(variant)
    if arm is not None:
        out.append(("aarch64", {p: arm.get(p, "") for p in PROJECTS}))
    return out


def all_variants(versions):
    found = []
    for v in versions:
        release = release_of(v)
        for variant in release["x86_64"] + list(release["aarch64"]):
            if variant not in found:
                found.append(variant)
    return found


def cuda_of(variant):
    return None if variant == "cpu" else f"{int(variant[2:-1])}.{variant[-1]}"


def sources(project, version, cuda):
    banner = f'"""STUB {project} {version} for offline ml-image-build builds: no tensors, version surface only."""\n'
    if project == "torch":
        return {
            "torch/__init__.py": banner + f"__version__ = {version!r}\nSTUB = True\nfrom . import version, cuda  # noqa: E402,F401\n",
            "torch/version.py": f"__version__ = {version!r}\ncuda = {cuda!r}\n",
            "torch/cuda/__init__.py": "def is_available():\n    return False\n\n\ndef device_count():\n    return 0\n",
        }
    return {f"{project}/__init__.py": banner + f"__version__ = {version!r}\nSTUB = True\n"}


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


def write_index(out, versions, variants, pythons_only=None):
    for variant in variants:
        for project in PROJECTS:
            pdir = os.path.join(out, variant, project)
            os.makedirs(pdir, exist_ok=True)
            entries = []
            for public in versions:
                release = release_of(public)
                pythons = [p for p in release["python"] if not pythons_only or p in pythons_only]
                base = {"torch": public, "torchaudio": release["torchaudio"], "torchvision": release["torchvision"]}[project]
                for machine, tags in wheels_for(public, variant):
                    if tags[project] is None:
                        continue  # the real index has no such wheel (e.g. 2.4.x aarch64 torchaudio on cu124)
                    version = base + tags[project]
                    requires = [] if project == "torch" else [f"torch=={public}"]
                    for py in pythons:
                        tag = f"{python_tag(py)}-{platform_tag(public, machine, variant)}"
                        data = build_wheel(project, version, tag, sources(project, version, cuda_of(variant)), requires)
                        name = f"{project}-{version}-{tag}.whl"
                        with open(os.path.join(pdir, name), "wb") as f:
                            f.write(data)
                        entries.append((name, hashlib.sha256(data).hexdigest()))
            links = [f'<a href="{urllib.parse.quote(n)}#sha256={sha}">{html.escape(n)}</a><br/>' for n, sha in entries]
            with open(os.path.join(pdir, "index.html"), "w") as f:
                f.write(f"<!DOCTYPE html><html><head><meta name=\"pypi:repository-version\" content=\"1.1\"></head><body><h1>Links for {project}</h1>\n" + "\n".join(links) + "\n</body></html>\n")
            page = {"meta": {"api-version": "1.1"}, "name": project, "files": [{"filename": n, "url": urllib.parse.quote(n), "hashes": {"sha256": sha}} for n, sha in entries]}
            with open(os.path.join(pdir, "index.json"), "w") as f:
                json.dump(page, f)
        vdir = os.path.join(out, variant)
        with open(os.path.join(vdir, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><html><body>" + "".join(f'<a href="{p}/">{p}</a><br/>' for p in PROJECTS) + "</body></html>\n")
        with open(os.path.join(vdir, "index.json"), "w") as f:
            json.dump({"meta": {"api-version": "1.1"}, "projects": [{"name": p} for p in PROJECTS]}, f)


def accepted(header):
    """[(media type, q)] of an Accept header, best first."""
    out = []
    for part in (header or "").split(","):
        fields = [x.strip() for x in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for p in fields[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        out.append((fields[0].lower(), q))
    return sorted(out, key=lambda x: -x[1])


def choose(header):
    """The form to answer in (PEP 691 content negotiation): 'json', 'html' (with its type), or None for 406."""
    if not header:
        return ("html", "text/html")
    for media, q in accepted(header):
        if q <= 0:
            continue
        if media in (JSON_TYPE, "application/vnd.pypi.simple.latest+json"):
            return ("json", JSON_TYPE)
        if media in (HTML_TYPE, "application/vnd.pypi.simple.latest+html"):
            return ("html", HTML_TYPE)
        if media in ("text/html", "*/*", "text/*"):
            return ("html", "text/html")
    return None


def make_handler(root, html_only, log):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "ml-image-build-index/1"

        def log_message(self, fmt, *args):  # the request log below replaces the stderr chatter
            pass

        def record(self, status, answered):
            if log:
                log.write(json.dumps({"path": self.path, "accept": self.headers.get("Accept", ""), "status": status, "answered": answered}) + "\n")
                log.flush()

        def send(self, status, body=b"", ctype="text/plain", answered="error"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if status == 200 and answered in ("json", "html"):
                self.send_header("Vary", "Accept")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.record(status, answered)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            parts = [p for p in path.split("/") if p]
            if any(p in (".", "..") for p in parts):
                return self.send(404)
            local = os.path.join(root, *parts)
            if os.path.isfile(local) and local.endswith(".whl"):
                with open(local, "rb") as f:
                    return self.send(200, f.read(), "application/octet-stream", "file")
            if not os.path.isdir(local) or not os.path.isfile(os.path.join(local, "index.html")):
                return self.send(404, b"not found")
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return self.record(301, "redirect")
            form = ("html", "text/html") if html_only else choose(self.headers.get("Accept"))
            if form is None:
                return self.send(406, b"acceptable: " + f"{JSON_TYPE}, {HTML_TYPE}, text/html".encode())
            name = "index.json" if form[0] == "json" else "index.html"
            with open(os.path.join(local, name), "rb") as f:
                return self.send(200, f.read(), form[1], form[0])

    return Handler


def serve(root, bind, port, html_only, log_path):
    log = open(log_path, "a") if log_path else None
    server = http.server.ThreadingHTTPServer((bind, port), make_handler(root, html_only, log))
    print(f"serving {root} on http://{bind}:{server.server_address[1]} ({'PEP 503 HTML only' if html_only else 'PEP 691 JSON or PEP 503 HTML by Accept'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--versions", default="2.2.2")
    ap.add_argument("--variants", default="", help="default: every variant the table lists for the versions")
    ap.add_argument("--pythons", default="", help="only these CPython versions (default: all the table lists for each release)")
    ap.add_argument("--serve", type=int, metavar="PORT", help="then serve OUT_DIR on this port")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--html-only", action="store_true", help="answer PEP 503 HTML whatever the Accept header asks")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    args = ap.parse_args()
    versions = args.versions.split(",")
    variants = args.variants.split(",") if args.variants else all_variants(versions)
    write_index(args.out, versions, variants, args.pythons.split(",") if args.pythons else None)
    print(f"wrote stub wheel index for {','.join(variants)} x {args.versions} under {args.out}", flush=True)
    if args.serve is not None:
        serve(args.out, args.bind, args.serve, args.html_only, args.log)


if __name__ == "__main__":
    sys.exit(main())
