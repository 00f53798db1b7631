"""MRZ reading on document photos, idgate and PassportEye side by side (issue #24).

Usage: mrz_photos.py IDGATE_BINARY MODELS_DIR TESTDATA_DIR [PHOTOS_DIR...]

Sources: the public images in TESTDATA_DIR that come with their printed MRZ (fastmrz,
passporteye, mrz_arg0s1080), and each PHOTOS_DIR made by bench/photos.py (its manifest's
mrz_lines). Per source and reader: images, MRZ valid (every check digit), lines exact
(every printed character), and the median and maximum time per image. idgate's time is
its whole check (`timings_ms.total`: outline, quality, originality and the MRZ);
PassportEye's is `read_mrz` alone, with Debian's tesseract-ocr. Prints JSON.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import warnings

# PassportEye 2.2.2 calls scikit-image APIs deprecated in 0.25; the results are the same.
warnings.filterwarnings("ignore", category=FutureWarning)

SETS = [
    ("fastmrz", "manifest.json"),
    ("passporteye", "images_manifest.json"),
    ("mrz_arg0s1080", "images_manifest.json"),
]


def testdata_images(root):
    for name, manifest in SETS:
        path = os.path.join(root, name, manifest)
        if not os.path.exists(path):
            continue
        v = json.load(open(path))
        entries = v.get("images", v) if isinstance(v, dict) else v
        for e in entries:
            printed = e.get("printed_mrz_lines") or []
            image = e.get("image")
            if printed and image and os.path.exists(os.path.join(root, name, image)):
                yield name, os.path.join(root, name, image), printed


def photos_images(folder):
    v = json.load(open(os.path.join(folder, "manifest.json")))
    label = "photos.py " + os.path.basename(os.path.normpath(folder))
    for p in v["photos"]:
        # Only documents whose MRZ is meant to be read as printed (not the tampered ones).
        if p.get("mrz_lines") and p.get("kind", "").startswith("clean"):
            yield label, os.path.join(folder, p["file"]), p["mrz_lines"]


def run_idgate(binary, models, images):
    out = {}
    files = [path for _, path, _ in images]
    for i in range(0, len(files), 50):
        r = subprocess.run(
            [binary, "check", "--json", "--today", "2026-11-24", "--models-dir", models]
            + files[i : i + 50],
            capture_output=True,
            text=True,
        )
        for line in r.stdout.splitlines():
            v = json.loads(line)
            mrz = v.get("mrz") or {}
            out[v["file"]] = (
                mrz.get("lines") or [],
                bool(mrz.get("valid")),
                (v.get("timings_ms") or {}).get("total"),
            )
    return out


def run_passporteye(path):
    from passporteye import read_mrz

    started = time.perf_counter()
    try:
        mrz = read_mrz(path)
    except Exception:  # a reader that fails on an image has read nothing
        mrz = None
    ms = (time.perf_counter() - started) * 1000
    if mrz is None:
        return [], False, ms
    lines = [l.replace(" ", "") for l in mrz.aux.get("raw_text", "").splitlines() if l.strip()]
    return lines, bool(mrz.valid), ms


def summary(rows):
    times = sorted(t for _, _, t in rows if t is not None)
    return {
        "images": len(rows),
        "valid": sum(1 for _, valid, _ in rows if valid),
        "exact": sum(1 for exact, _, _ in rows if exact),
        "median_ms": round(statistics.median(times)) if times else None,
        "max_ms": round(times[-1]) if times else None,
    }


def main():
    binary, models, testdata, *photo_dirs = sys.argv[1:]
    images = list(testdata_images(testdata))
    for d in photo_dirs:
        images.extend(photos_images(d))
    ours = run_idgate(binary, models, images)
    per = {}
    for source, path, printed in images:
        lines, valid, ms = ours.get(path, ([], False, None))
        per.setdefault(source, {"idgate": [], "passporteye": [], "unread_by_both": []})
        per[source]["idgate"].append((lines == printed, valid, ms))
        pe_lines, pe_valid, pe_ms = run_passporteye(path)
        per[source]["passporteye"].append((pe_lines == printed, pe_valid, pe_ms))
        if lines != printed and pe_lines != printed:
            per[source]["unread_by_both"].append(os.path.basename(path))
    result = {
        source: {
            "idgate": summary(v["idgate"]),
            "passporteye": summary(v["passporteye"]),
            "unread_by_both": v["unread_by_both"],
        }
        for source, v in per.items()
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
