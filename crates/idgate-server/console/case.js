// What a case page shows beside the images: the checks' findings drawn on each document
// image, the MRZ read from each side, the entered data beside the document's, the faces
// compared, the applicant's attempts, and links from findings to what they point at.
// Every server value is set as text or as an attribute, never parsed as markup.

import { h } from "./dom.js";

let t = (key) => key;
let tk = (key) => key;
let when = (iso) => iso;

/// The page's translators and date format (app.js owns the catalogue).
export function setup(fns) {
  ({ t, tk, when } = fns);
}

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

/// The evidence of one document: the side the checks saw for it (a selfie has none).
export function sideOf(evidence, doc) {
  if (!evidence || doc.kind === "selfie") return null;
  return evidence.sides.find((x) => x.side === doc.side) || null;
}

/// One side's findings drawn over its image, in fractions of the image: the SVG is
/// stretched over the picture, so it follows every zoom and rotation of it.
export function overlay(seen) {
  const band = seen?.mrz?.band;
  if (!seen || (!seen.outline && !seen.marks.length && !band)) return null;
  const svg = s("svg", { class: "overlay", viewBox: "0 0 1 1", preserveAspectRatio: "none", "aria-hidden": "true", "data-marks": seen.marks.length });
  if (seen.outline) {
    svg.append(s("polygon", { class: "outline", points: seen.outline.map((p) => p.join(",")).join(" "), "vector-effect": "non-scaling-stroke" }));
  }
  if (band) {
    svg.append(s("polygon", { class: "mrz-band", points: band.map((p) => p.join(",")).join(" "), "vector-effect": "non-scaling-stroke" }));
  }
  for (const m of seen.marks) {
    const [x, y, w, hgt] = m.area;
    svg.append(s("rect", { class: "mark", "data-code": m.code, x, y, width: w, height: hgt, "vector-effect": "non-scaling-stroke" }));
  }
  return svg;
}

/// What the drawing shows, in words (the drawing itself is hidden from screen readers).
export function legend(seen) {
  if (!seen) return null;
  const items = [];
  if (seen.outline) items.push(h("li", { class: "outline" }, t("evidence.outline")));
  if (seen.mrz?.band) items.push(h("li", { class: "mrz-band" }, t("evidence.mrz_band")));
  for (const m of seen.marks) items.push(h("li", { class: "mark" }, h("code", { text: m.code }), " ", t("evidence.marked")));
  if (!seen.outline) items.push(h("li", { class: "muted" }, t("evidence.no_outline")));
  return h("ul", { class: "legend" }, items);
}

/// The MRZ as the checks read it from a side: its lines, and whether its check digits hold.
export function mrz(seen) {
  if (!seen?.mrz) return null;
  const m = seen.mrz;
  const state = m.valid
    ? h("p", { class: "ok", text: t("evidence.mrz_valid", { format: m.format || "?" }) })
    : h("p", { class: "bad", text: m.failed.length ? t("evidence.mrz_failed", { checks: m.failed.join(", ") }) : t("evidence.mrz_unparsed") });
  return h("div", { class: "mrz-read" }, h("p", { class: "muted", text: t("evidence.mrz") }), h("pre", { class: "mrz", tabindex: "0", "aria-label": t("evidence.mrz"), text: m.lines.join("\n") }), state);
}

/// The entered data beside the document's, a row per field; the rows the engine found to
/// disagree are marked with its reason codes.
export function compare(rows) {
  if (!rows?.length) return h("p", { class: "muted", text: t("case.none") });
  return h("table", { class: "fields", id: "compare" },
    h("thead", {}, h("tr", {}, ["compare.field", "compare.entered", "compare.document", "compare.verdict"].map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, rows.map((r) => {
      const entered = h("td", { text: r.entered || "—" });
      if (r.pinyin) entered.append(h("br"), h("span", { class: "pinyin", lang: "zh-Latn-pinyin", text: r.pinyin }));
      const verdict = r.mismatch
        ? h("td", {}, h("span", { class: "sr", text: t("compare.differs") }), r.codes.map((c) => h("span", { class: "tag", text: c })))
        : h("td", { class: "muted", text: r.entered && r.document ? t("compare.agrees") : "—" });
      return h("tr", { class: r.mismatch ? "mismatch" : null, "data-field": r.field },
        h("th", { scope: "row", text: tk(`compare.${r.field}`) }), entered, h("td", { class: "docval", text: r.document || "—" }), verdict);
    })));
}

/// A part of an image (`area`, fractions of it) shown `width` px wide.
function crop(src, area, label, width) {
  const box = h("div", { class: "crop", role: "img", "aria-label": label });
  const img = h("img", { src, alt: "" });
  box.style.width = `${width}px`;
  img.addEventListener("load", () => {
    const [x, y, w, hgt] = area;
    const cropW = w * img.naturalWidth;
    const scale = cropW > 0 ? width / cropW : 1;
    box.style.height = `${Math.round(hgt * img.naturalHeight * scale)}px`;
    img.style.width = `${img.naturalWidth * scale}px`;
    img.style.left = `${-x * img.naturalWidth * scale}px`;
    img.style.top = `${-y * img.naturalHeight * scale}px`;
    box.dataset.loaded = "1";
  });
  box.append(img);
  return box;
}

/// The document portrait beside the selfie's face, with their similarity.
export function faces(face, docs, srcOf) {
  if (!face) return h("p", { class: "muted", text: t("evidence.no_faces") });
  const portraitDoc = face.portrait && docs.find((d) => d.kind !== "selfie" && d.side === face.portrait[0]);
  const selfieDoc = docs.find((d) => d.kind === "selfie");
  const pair = h("div", { class: "faces", id: "faces" },
    h("figure", {}, portraitDoc ? crop(srcOf(portraitDoc), face.portrait[1], t("evidence.portrait"), 150) : h("p", { class: "muted", text: t("evidence.no_portrait") }),
      h("figcaption", { text: t("evidence.portrait") })),
    h("figure", {}, selfieDoc && face.selfie ? crop(srcOf(selfieDoc), face.selfie, t("evidence.selfie"), 150) : h("p", { class: "muted", text: t("case.none") }),
      h("figcaption", { text: t("evidence.selfie") })));
  const pct = (v) => `${Math.round(v * 100)}%`;
  const score = face.similarity == null
    ? h("p", { class: "muted", text: t("evidence.not_compared") })
    : h("p", { id: "similarity", class: face.similarity >= face.threshold ? "ok" : "bad",
        text: t(face.similarity >= face.threshold ? "evidence.same_person" : "evidence.other_person", { value: pct(face.similarity), threshold: pct(face.threshold) }) });
  return h("div", {}, pair, score);
}

/// The applicant's cases, newest first; the one shown is marked.
export function history(list, current) {
  if (!list?.length) return h("p", { class: "muted", text: t("case.none") });
  return h("table", { class: "history", id: "history" },
    h("thead", {}, h("tr", {}, ["history.opened", "history.case", "case.status", "history.reasons"].map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, list.map((c) => h("tr", { "aria-current": c.id === current ? "true" : null },
      h("td", { text: when(c.created_at) }),
      h("td", {}, c.id === current ? h("span", { text: t("history.this_case") }) : h("a", { href: `#/case/${encodeURIComponent(c.id)}`, text: c.id.slice(0, 8) })),
      h("td", { text: tk(`status.${c.status}`) }),
      h("td", {}, c.reasons.map((r) => h("span", { class: "tag", text: r })))))));
}

/// A finding's detail value, with what it points at as a link: another case (a picture
/// used again, a face verified there), another account (a duplicate), a listed entity (a
/// screening match).
export function detailValue(key, value) {
  if ((key === "case" || key === "replay_of_case") && typeof value === "string") {
    return h("a", { href: `#/case/${encodeURIComponent(value)}`, text: value });
  }
  if (key === "account" && typeof value === "string") {
    return h("a", { href: `#/applicant/${encodeURIComponent(value)}`, text: value });
  }
  if (key === "matches" && Array.isArray(value)) {
    return h("ul", { class: "matches" }, value.map((m) => h("li", {},
      h("a", { href: `#/entity/${encodeURIComponent(m.entity_id)}`, text: m.listed_name || m.entity_id }),
      ` · ${t("evidence.score", { score: Number(m.score).toFixed(2) })}`,
      m.query_name ? ` · ${t("evidence.met", { name: m.query_name })}` : "")));
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/// An applicant's cases (where a duplicate's account leads).
export function applicantPage(data) {
  return [
    h("dl", { class: "summary" }, h("dt", { text: t("case.applicant") }), h("dd", { text: data.uid }),
      h("dt", { text: t("queue.country") }), h("dd", { text: data.region })),
    history(data.cases, null),
  ];
}

/// A listed entity's record (where a screening match leads).
export function entityPage(e) {
  const row = (key, v) => [h("dt", { text: t(key) }), h("dd", { text: Array.isArray(v) ? (v.length ? v.join("; ") : "—") : (v ?? "—") })];
  const dates = (e.birth_dates || []).map((d) => [d.year, d.month, d.day].filter((x) => x != null).map((x) => String(x).padStart(2, "0")).join("-"));
  return h("dl", { class: "summary", id: "entity" },
    row("entity.id", e.id), row("entity.topic", tk(`topic.${e.topic}`)), row("entity.names", e.names),
    row("entity.birth_dates", dates), row("entity.nationalities", e.nationalities), row("entity.gender", e.gender),
    row("entity.identifiers", e.identifiers), row("entity.programs", e.programs), row("entity.digest", e.digest));
}

/// The frames kept from each liveness recording, with what each shows (the movement seen in
/// it, the first and last, the one kept as the selfie).
export function liveness(list, caseId) {
  if (!list?.length) return h("p", { class: "muted", text: t("liveness.none") });
  return h("div", { id: "liveness" }, list.map((c) => h("div", { class: "recording", "data-status": c.status },
    h("p", { class: c.status === "passed" ? "ok" : "bad", text: t(c.status === "passed" ? "liveness.passed" : "liveness.failed") }),
    h("div", { class: "frames" }, c.frames.map((f) => {
      const label = tk(`shot.${f.label}`);
      return h("figure", {},
        h("img", { src: `/v1/review/cases/${encodeURIComponent(caseId)}/liveness/${encodeURIComponent(f.id)}/image`, alt: t("liveness.frame_alt", { label, n: f.frame + 1 }), loading: "lazy" }),
        h("figcaption", { text: t("liveness.frame", { label, n: f.frame + 1 }) }));
    })))));
}
