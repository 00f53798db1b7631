#!/usr/bin/env python3
"""A second, independent way to make labelled document photos for `idgate-eval photos --photos`.

idgate-specimen (Rust) draws the documents the photo checks were calibrated on. This script
shares none of its code, fonts choices, layouts or camera model, so that a check tuned to
one generator's habits shows it here: other layouts (white, pale blue and pale grey cards
and passport pages, plain white MRZ bands), OCR-B and DejaVu Sans Mono MRZ text, documents
on a table, on printed paper or on patterned cloth, held by a thumb, perspective, over- and
under-exposure, colour casts, phone processing (noise, sharpening, JPEG).

Usage: photos.py OUT_DIR [PER_KIND] [SEED]. Writes OUT_DIR/*.jpg and OUT_DIR/manifest.json:
{"generator": ..., "photos": [{"file", "kind", "expected", "allowed", "mrz_lines"}]}.
`expected`: codes a correct check must raise; `allowed`: codes that may follow from the
defect without being a false alarm. Every person is generated; no one's data.
"""

import json
import math
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = {
    "ocrb": "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
}

# Kinds: (expected codes, allowed codes).
KINDS = {
    "clean": ([], []),
    "clean_overexposed": ([], []),
    "clean_cast": ([], []),
    "clean_dim": ([], []),
    "glare": (["GLARE"], ["MRZ_UNREADABLE"]),
    "black_and_white": (["BLACK_AND_WHITE"], ["MRZ_UNREADABLE"]),
    "photocopy": (["PHOTOCOPY"], ["MRZ_UNREADABLE"]),
    "mrz_tampered": (["MRZ_INVALID"], []),
}

SURNAMES = ["MOREAU", "KOWALSKA", "NAKAMURA", "OKONKWO", "LINDQVIST", "HASSAN", "GARCIA",
            "PETROV", "OBRIEN", "WANG", "SILVA", "JANSEN", "ROSSI", "NGUYEN", "MULLER",
            "ABERNATHY", "QUILL", "ZHOU", "BROWN", "DUBOIS"]
GIVEN = ["ELENA", "MARCUS", "AIKO", "CHIDI", "SOFIA", "YUSUF", "LUCIA", "IVAN", "ROISIN",
         "MEI", "JOAO", "DAAN", "GIULIA", "MINH", "KLAUS", "HARPER", "OTTO", "LIN", "AVA",
         "NOEL", "PAUL ANDRE", "ANNA MARIA"]
STATES = ["DEU", "FRA", "NLD", "GBR", "CHN", "ESP", "ITA", "USA", "CAN", "AUS", "SWE", "POL",
          "NOR", "JPN", "BRA", "IRL"]


def value(c):
    if c.isdigit():
        return int(c)
    if c == "<":
        return 0
    return ord(c) - 55


def check_digit(s):
    return str(sum(value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)


def name_field(surname, given, width):
    text = surname.replace(" ", "<") + "<<" + given.replace(" ", "<")
    return (text + "<" * width)[:width]


def yymmdd(rng, y0, y1):
    y = rng.randint(y0, y1)
    return "%02d%02d%02d" % (y % 100, rng.randint(1, 12), rng.randint(1, 28)), y


def identity(rng):
    number = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(2)) + \
        "".join(rng.choice("0123456789") for _ in range(7))
    birth, _ = yymmdd(rng, 1950, 2004)
    expiry, _ = yymmdd(rng, 2028, 2035)
    return {
        "surname": rng.choice(SURNAMES),
        "given": rng.choice(GIVEN),
        "number": number,
        "state": rng.choice(STATES),
        "nationality": rng.choice(STATES),
        "birth": birth,
        "expiry": expiry,
        "sex": rng.choice("MF"),
    }


def td3(p):
    l1 = "P<" + p["state"] + name_field(p["surname"], p["given"], 39)
    num = p["number"]
    opt = "<" * 14
    l2 = num + check_digit(num) + p["nationality"] + p["birth"] + check_digit(p["birth"]) + \
        p["sex"] + p["expiry"] + check_digit(p["expiry"]) + opt + check_digit(opt)
    comp = l2[0:10] + l2[13:20] + l2[21:43]
    return [l1, l2 + check_digit(comp)]


def td1(p):
    num = p["number"]
    l1 = "I<" + p["state"] + num + check_digit(num) + "<" * 15
    l2 = p["birth"] + check_digit(p["birth"]) + p["sex"] + p["expiry"] + \
        check_digit(p["expiry"]) + p["nationality"] + "<" * 11
    comp = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(comp)
    return [l1, l2, name_field(p["surname"], p["given"], 30)]


def tamper(lines, fmt, rng):
    """One digit of the document number changed, its check digit left as printed."""
    line, start = (1, 0) if fmt == "td3" else (0, 5)
    cols = [c for c in range(start, start + 9) if lines[line][c].isdigit()]
    col = rng.choice(cols)
    chars = list(lines[line])
    chars[col] = str((int(chars[col]) + rng.randint(1, 9)) % 10)
    out = list(lines)
    out[line] = "".join(chars)
    return out


STYLES = {
    # background, print colour, accent (pale pattern), MRZ band or None
    "white": ((250, 250, 248), (25, 25, 30), (225, 225, 228), None),
    "pale_blue": ((214, 228, 244), (20, 30, 60), (180, 205, 235), (250, 251, 252)),
    "pale_grey": ((232, 232, 230), (30, 30, 30), (205, 208, 212), (246, 246, 246)),
    "pale_green": ((222, 238, 222), (20, 40, 30), (190, 220, 195), None),
}


def draw_page(p, fmt, lines, style, mrz_font, rng):
    """The document as printed: 10 pixels per millimetre."""
    w, h = (1256, 884) if fmt == "td3" else (856, 540)
    bg, ink, accent, band = STYLES[style]
    page = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(page)
    # A pale guilloche of sine waves.
    for k in range(14):
        pts = [(x, h * 0.12 + k * h * 0.05 + 9 * math.sin(x / (23 + k) + k)) for x in range(0, w, 6)]
        d.line(pts, fill=accent, width=2)
    sans = ImageFont.truetype(FONTS["sans"], 20)
    bold = ImageFont.truetype(FONTS["bold"], 30)
    d.text((40, 22), ("PASSPORT  " if fmt == "td3" else "IDENTITY CARD  ") + p["state"], font=bold, fill=ink)
    # Portrait: a face-coloured oval and shoulders on a light ground.
    px, py, pw, ph = 40, 90, int(w * 0.26), int(h * 0.5)
    portrait = Image.new("RGB", (pw, ph), (236, 232, 226))
    pd = ImageDraw.Draw(portrait)
    skin = rng.choice([(224, 182, 150), (196, 142, 108), (141, 95, 70), (236, 200, 170)])
    pd.ellipse((pw * 0.05, ph * 0.68, pw * 0.95, ph * 1.25), fill=rng.choice(
        [(60, 70, 110), (120, 40, 40), (50, 50, 50), (90, 110, 80)]))
    pd.ellipse((pw * 0.2, ph * 0.12, pw * 0.8, ph * 0.72), fill=skin)
    page.paste(portrait, (px, py))
    fields = [("Surname", p["surname"]), ("Given names", p["given"]),
              ("Nationality", p["nationality"]), ("Date of birth", p["birth"]),
              ("Document no.", p["number"]), ("Date of expiry", p["expiry"])]
    x0 = px + pw + 40
    for i, (label, val) in enumerate(fields):
        y = 90 + i * (h * 0.085)
        d.text((x0, y), label, font=ImageFont.truetype(FONTS["sans"], 14), fill=tuple(min(255, c + 90) for c in ink))
        d.text((x0, y + 16), val, font=sans, fill=ink)
    # MRZ: 10 characters per 25.4 mm at the bottom, in OCR-B or a monospaced stand-in.
    font_path = FONTS[mrz_font]
    pitch = 25.4
    size = 40
    f = ImageFont.truetype(font_path, size)
    size = int(size * pitch / f.getlength("<"))
    f = ImageFont.truetype(font_path, size)
    n = len(lines)
    line_h = 42 if fmt == "td3" else 38
    top = h - 24 - n * line_h
    if band:
        d.rectangle((0, top - 14, w, h), fill=band)
    left = (w - pitch * len(lines[0])) / 2
    for i, text in enumerate(lines):
        for j, c in enumerate(text):
            d.text((left + j * pitch, top + i * line_h), c, font=f, fill=ink)
    return page


def background(kind, size, rng):
    w, h = size
    a = np.zeros((h, w, 3), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    if kind == "table":
        base = np.array(rng.choice([(150, 105, 70), (120, 120, 118), (70, 80, 95), (190, 180, 165)]), np.float32)
        grain = 12 * np.sin(xx / 7.0 + 3 * np.sin(yy / 53.0))
        a[:] = base
        a += grain[..., None]
    elif kind == "paper":
        a[:] = (238, 236, 230)
        img = Image.fromarray(a.astype(np.uint8))
        d = ImageDraw.Draw(img)
        f = ImageFont.truetype(FONTS["serif"], 22)
        words = "the quick report of annual figures shows that revenue rose in every quarter".split()
        for y in range(20, h, 34):
            d.text((30, y), " ".join(rng.choice(words) for _ in range(w // 70)), font=f, fill=(60, 60, 60))
        a = np.asarray(img).astype(np.float32)
    else:  # cloth
        c1 = np.array(rng.choice([(170, 40, 50), (40, 90, 150), (60, 120, 70)]), np.float32)
        c2 = np.array((220, 210, 190), np.float32)
        check = ((xx // 24 + yy // 24) % 2)[..., None]
        stripe = ((xx % 48) < 6)[..., None]
        a[:] = np.where(check == 1, c1, c2)
        a = np.where(stripe, a * 0.6, a)
    return a


def perspective_coeffs(dst, src):
    """Coefficients for PIL's PERSPECTIVE transform mapping output points dst to input src."""
    m = []
    for (x, y), (u, v) in zip(dst, src):
        m.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        m.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    b = np.array(src, np.float64).reshape(8)
    return np.linalg.solve(np.array(m, np.float64), b).tolist()


def photograph(page, kind, rng, size=(1600, 1200)):
    w, h = size
    scene_kind = rng.choice(["table", "paper", "cloth"])
    scene = background(scene_kind, size, rng)
    pw, ph = page.size
    # The document covers 55-80 % of the frame's width, slightly rotated and tilted.
    scale = rng.uniform(0.55, 0.8) * w / pw
    cw, ch = pw * scale, ph * scale
    cx, cy = w / 2 + rng.uniform(-0.06, 0.06) * w, h / 2 + rng.uniform(-0.05, 0.05) * h
    ang = math.radians(rng.uniform(-8, 8))
    corners = []
    for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
        x, y = sx * cw / 2, sy * ch / 2
        # Tilt: the far edge a little shorter.
        x *= 1 - rng.uniform(0, 0.05) * (sy < 0)
        corners.append((cx + x * math.cos(ang) - y * math.sin(ang),
                        cy + x * math.sin(ang) + y * math.cos(ang)))
    coeffs = perspective_coeffs(corners, [(0, 0), (pw, 0), (pw, ph), (0, ph)])
    warped = page.transform(size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", page.size, 255).transform(size, Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    m = np.asarray(mask).astype(np.float32)[..., None] / 255
    doc = np.asarray(warped).astype(np.float32)
    if kind == "photocopy":
        # Toner on paper: grey, harder contrast, a little halftone and paper grain.
        g = doc @ np.array([0.299, 0.587, 0.114], np.float32)
        g = np.clip((g - 30) * 1.15, 0, 255)
        yy, xx = np.mgrid[0:h, 0:w]
        g = np.where((g < 235) & (g > 60), g + 18 * np.sin(xx * 1.3) * np.sin(yy * 1.3), g)
        g = np.clip(g + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 3, g.shape), 0, 255)
        doc = np.repeat(g[..., None], 3, axis=2)
    img = scene * (1 - m) + doc * m
    # A thumb holding a card by its edge.
    if rng.random() < 0.25:
        tx = corners[0][0] + (corners[3][0] - corners[0][0]) * 0.5
        ty = corners[0][1] + (corners[3][1] - corners[0][1]) * 0.5
        yy, xx = np.mgrid[0:h, 0:w]
        r = 0.05 * w
        thumb = (((xx - tx + r * 0.8) / (r * 1.4)) ** 2 + ((yy - ty) / r) ** 2) < 1
        img = np.where(thumb[..., None], np.array((205, 150, 120), np.float32), img)
    # Light: exposure, a gentle vignette, the colour of the light.
    exposure = {"clean_overexposed": rng.uniform(1.12, 1.25), "clean_dim": rng.uniform(0.45, 0.6)}.get(
        kind, rng.uniform(0.85, 1.05))
    yy, xx = np.mgrid[0:h, 0:w]
    vignette = 1 - 0.18 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    img = img * exposure * vignette[..., None]
    if kind == "clean_cast":
        cast = rng.choice([(0.88, 1.0, 0.82), (1.08, 1.0, 0.8), (0.85, 0.95, 1.1), (0.9, 1.05, 0.85)])
    else:
        cast = (rng.uniform(0.97, 1.03), 1.0, rng.uniform(0.95, 1.03))
    img = img * np.array(cast, np.float32)
    if kind == "glare":
        gx = rng.uniform(0.3, 0.7)
        gy = rng.uniform(0.2, 0.55)
        x = corners[0][0] + (corners[1][0] - corners[0][0]) * gx + (corners[3][0] - corners[0][0]) * gy
        y = corners[0][1] + (corners[1][1] - corners[0][1]) * gx + (corners[3][1] - corners[0][1]) * gy
        r = cw * rng.uniform(0.06, 0.1)
        d2 = (xx - x) ** 2 + ((yy - y) * rng.uniform(0.8, 1.3)) ** 2
        img = img + 400 * np.exp(-d2 / (2 * r * r))[..., None]
    # The sensor and the phone: noise, then sharpening and JPEG.
    img = img + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, rng.uniform(1.5, 4), img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.9)))
    out = out.filter(ImageFilter.UnsharpMask(radius=2, percent=rng.randint(60, 140), threshold=2))
    if kind == "black_and_white":
        out = out.convert("L").convert("RGB")
    return out, scene_kind


def main():
    out_dir = sys.argv[1]
    per_kind = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(out_dir, exist_ok=True)
    photos = []
    for k, (kind, (expected, allowed)) in enumerate(KINDS.items()):
        for i in range(per_kind):
            rng = random.Random(seed * 1_000_003 + k * 10_007 + i)
            p = identity(rng)
            fmt = rng.choice(["td1", "td3"])
            lines = td3(p) if fmt == "td3" else td1(p)
            printed = tamper(lines, fmt, rng) if kind == "mrz_tampered" else lines
            style = rng.choice(list(STYLES))
            mrz_font = rng.choice(["ocrb", "ocrb", "mono"])
            page = draw_page(p, fmt, printed, style, mrz_font, rng)
            photo, scene = photograph(page, kind, rng)
            name = f"{kind}-{fmt}-{style}-{scene}-{mrz_font}-{seed}-{i}.jpg"
            photo.save(os.path.join(out_dir, name), quality=rng.randint(80, 93))
            photos.append({"file": name, "kind": kind, "expected": expected,
                           "allowed": allowed, "mrz_lines": printed})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"generator": "bench/photos.py", "seed": seed, "photos": photos}, f, indent=1)
    print(f"{len(photos)} photos in {out_dir}")


if __name__ == "__main__":
    main()
