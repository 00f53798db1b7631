"""Seed inputs for the image fuzz targets (scripts/fuzz): small pictures in every form the
upload probe and the fast JPEG path meet — baseline JPEG at 4:4:4, 4:2:2, 4:2:0 and grey,
with restart intervals, progressive, odd sizes, with EXIF; PNG, WebP; a PDF. Written to
DIR/<target>/, never committed."""

import io
import os
import sys

from PIL import Image, ImageDraw

out = sys.argv[1]


def picture(w, h, mode="RGB"):
    img = Image.new("RGB", (w, h), (200, 180, 160))
    d = ImageDraw.Draw(img)
    for i in range(0, w, 7):
        d.line([(i, 0), (w - i, h)], fill=(i * 5 % 256, 40, 200 - i % 200))
    d.rectangle([w // 4, h // 4, w // 2, h // 2], fill=(20, 30, 40))
    return img.convert(mode)


def jpeg(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", **kw)
    return b.getvalue()


seeds = {}
for (w, h) in [(16, 16), (33, 17), (64, 48), (120, 90)]:
    for sub in (0, 1, 2):
        seeds[f"jpeg_{w}x{h}_s{sub}"] = jpeg(picture(w, h), quality=80, subsampling=sub)
    seeds[f"jpeg_{w}x{h}_grey"] = jpeg(picture(w, h, "L"), quality=70)
    seeds[f"jpeg_{w}x{h}_progressive"] = jpeg(picture(w, h), quality=75, progressive=True)
exif = Image.Exif()
exif[0x0112] = 6
seeds["jpeg_exif_rotated"] = jpeg(picture(40, 24), quality=85, exif=exif.tobytes())
seeds["jpeg_restart"] = jpeg(picture(64, 64), quality=60, restart_marker_blocks=2)
for fmt in ("PNG", "WEBP"):
    b = io.BytesIO()
    picture(48, 32).save(b, fmt)
    seeds[f"{fmt.lower()}_48x32"] = b.getvalue()
seeds["pdf"] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

for target, wanted in [("jpeg_fast", ("jpeg",)), ("upload_probe", ("jpeg", "png", "webp", "pdf"))]:
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if name.startswith(wanted):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
print(len(seeds))
