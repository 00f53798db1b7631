// The applicant's hosted flow. ES modules (this one and the pages' shared `dom.js`), no
// dependencies, no build step. Every string shown comes from the message catalogue (`t`
// for a fixed key, `tk` for a computed one); every value from the server is put in the
// page as text, never as HTML.

import { busy, fill, h, notice } from "./dom.js";

const SESSION_KEY = "idgate.session";
const CHOICE_KEY = "idgate.choice";
// Issuers whose documents print the name in a local script beside the Latin one.
const LOCAL_SCRIPT = new Set(["CN", "HK", "MO", "TW", "JP", "KR", "RU", "UA", "BY", "KZ", "KG",
  "BG", "RS", "MK", "GR", "CY", "IL", "SA", "AE", "EG", "JO", "QA", "KW", "OM", "BH", "MA", "TN",
  "TH", "GE", "AM", "MN"]);
const FINAL = ["approved", "rejected", "resubmission_requested"];

const app = document.getElementById("app");
const live = document.getElementById("live");
let lang = document.documentElement.lang || "en";
let msgs = {};
let reasonTexts = {};
const st = { session: null, case: null, countries: null, choice: null, started: false, onChange: null, version: null, listening: false, over: false };

class Stop extends Error {}

// ---- text ----------------------------------------------------------------------------

function t(key, vars) {
  return fill(msgs[key] ?? key, vars);
}
function tk(key, vars) {
  return t(key, vars);
}
function reasonText(code, fallback) {
  const r = reasonTexts[code];
  return r ? r[lang] || r.en : fallback;
}
async function loadText() {
  const [m, r] = await Promise.all([
    fetch(`/flow/assets/${lang}.json`).then((x) => x.json()),
    reasonTexts.loaded ? null : fetch("/v1/reasons").then((x) => x.json()),
  ]);
  msgs = m;
  if (r) {
    for (const x of r.reasons) reasonTexts[x.code] = x.texts;
    reasonTexts.loaded = true;
  }
  document.documentElement.lang = lang;
  document.title = t("title");
  document.getElementById("brand").textContent = t("brand");
  document.getElementById("lang-label").textContent = t("language");
  document.getElementById("lang").value = lang;
}

// ---- DOM -----------------------------------------------------------------------------

function screen(title, ...children) {
  unfollow();
  // The case's version this screen shows, and when it was shown (tests read them).
  app.dataset.version = st.version || "";
  window.idgateShownAt = performance.timeOrigin + performance.now();
  const h1 = h("h1", { id: "screen-title", tabindex: "-1", text: title });
  app.replaceChildren(h1, ...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  h1.focus();
  live.textContent = title;
}
function progress(n) {
  return h("p", { class: "progress", text: t("progress", { n, total: stepsTotal() }) });
}

// ---- the server ----------------------------------------------------------------------

let token = null;
{
  const m = location.hash.match(/[#&]s=(igs_[0-9a-f]{64})/);
  if (m) {
    token = m[1];
    sessionStorage.setItem(SESSION_KEY, token);
    // The token leaves the address bar: not in screenshots, history or a shared screen.
    history.replaceState(null, "", location.pathname + location.search);
  } else {
    token = sessionStorage.getItem(SESSION_KEY);
  }
}

async function api(method, path, body, type) {
  const headers = { authorization: `Bearer ${token}` };
  if (type) headers["content-type"] = type;
  let res;
  try {
    res = await fetch(path, { method, headers, body });
  } catch {
    ended("offline");
    throw new Stop();
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401) {
    ended(data?.error?.code === "session_revoked" ? "revoked" : "expired");
    throw new Stop();
  }
  return { ok: res.ok, status: res.status, data };
}
function errorText(r) {
  const code = r.data?.error?.code;
  const key = `error.${code}`;
  return code && key in msgs ? tk(key) : r.data?.error?.message || t("error.generic");
}

// ---- events for the embedding platform -----------------------------------------------

function emit(event, detail) {
  if (window.parent === window || !st.session) return;
  const msg = { source: "idgate", event, applicant_id: st.session.applicant.id, ...detail };
  for (const origin of st.session.embed_origins || []) window.parent.postMessage(msg, origin);
}

// ---- the steps -----------------------------------------------------------------------

function level() {
  const name = st.case?.level || st.session.level || "basic";
  return st.session.levels.find((l) => l.name === name) || { name, steps: [], missing: [] };
}
function needs(step) {
  return level().missing.includes(step);
}
function stepsTotal() {
  return 3 + (needs("selfie") ? 1 : 0) + (needs("proof_of_address") ? 1 : 0) + (st.choice?.sides?.length || 1);
}
function uploaded(kind, side) {
  return (st.case?.documents || []).some((d) => d.kind === kind && d.side === side);
}

async function route() {
  const r = await api("GET", `/flow/v1/session?lang=${lang}`);
  st.session = r.data;
  st.case = r.data.case;
  st.version = r.data.version;
  const c = st.case;
  if (!c || (!st.started && c.status === "draft" && !c.data_entered && !c.documents.length)) {
    return intro();
  }
  if (c.status !== "draft") return status();
  st.choice = st.choice || JSON.parse(sessionStorage.getItem(CHOICE_KEY) || "null");
  const chosen = st.session.document;
  if (chosen && (!st.choice || st.choice.kind !== chosen.type || st.choice.country !== chosen.country)) {
    // Chosen on another device (or before a reload): carry on from it.
    const country = (await catalog()).find((x) => x.code === chosen.country);
    const doc = country?.documents.find((d) => d.kind === chosen.type);
    if (doc) st.choice = { country: chosen.country, kind: chosen.type, sides: doc.sides };
  }
  if (!st.choice || !c.data_entered) return documentStep();
  const side = st.choice.sides.find((s) => !uploaded(st.choice.kind, s));
  if (side) return sideStep(side);
  if (needs("selfie") && !(c.documents || []).some((d) => d.kind === "selfie")) return faceStep();
  if (needs("proof_of_address") && !uploaded("proof_of_address", "page")) return addressStep();
  return reviewStep();
}

function intro() {
  const steps = level().missing.length ? level().missing : level().steps;
  const start = h("button", { id: "start", text: t("intro.start"), onclick: begin });
  screen(
    t("intro.title"),
    h("p", { text: t("intro.lead") }),
    h("ol", { class: "steps" }, steps.map((s) => h("li", { text: tk(`step.${s}`) }))),
    h("p", { class: "muted", text: t("intro.privacy") }),
    h("div", { class: "actions" }, start),
    handoff(),
  );
  follow();
  async function begin() {
    busy(start, true);
    const r = await api("POST", "/flow/v1/cases", "", null);
    busy(start, false);
    if (!r.ok) return start.after(notice("bad", errorText(r)));
    st.case = r.data;
    st.started = true;
    emit("started", { case_id: r.data.id });
    route();
  }
}

async function catalog() {
  if (!st.countries) {
    const r = await fetch("/v1/catalog").then((x) => x.json());
    st.countries = r.countries;
  }
  return st.countries;
}

async function documentStep() {
  await catalog();
  const names = new Intl.DisplayNames([lang], { type: "region" });
  const name = (c) => {
    try {
      return names.of(c.code) || c.name;
    } catch {
      return c.name;
    }
  };
  const sorted = [...st.countries].sort((a, b) => name(a).localeCompare(name(b), lang));
  const chosen = st.choice?.country || st.session.applicant.region;
  const select = h("select", { id: "country", class: "wide", name: "country" },
    sorted.map((c) => h("option", { value: c.code, selected: c.code === chosen, text: name(c) })));
  const kinds = h("fieldset", { class: "choices" });
  const next = h("button", { id: "next", text: t("next"), onclick: go });
  const region = st.countries.find((c) => c.code === st.session.applicant.region);
  screen(
    t("doc.title"),
    progress(1),
    region && !region.supported ? notice("bad", t("doc.region_unsupported", { country: name(region) })) : null,
    h("label", { class: "field", for: "country" }, h("span", { text: t("doc.country") }), select),
    kinds,
    h("div", { class: "actions" }, next),
    handoff(),
  );
  follow();
  function showKinds() {
    const c = st.countries.find((x) => x.code === select.value);
    kinds.replaceChildren(h("legend", { text: t("doc.type") }));
    if (!c || !c.documents.length) {
      kinds.append(notice("warn", t("doc.none_accepted", { country: name(c) })));
      next.disabled = true;
      return;
    }
    next.disabled = false;
    c.documents.forEach((d, i) => {
      const checked = st.choice ? st.choice.kind === d.kind && st.choice.country === c.code : i === 0;
      kinds.append(h("label", { class: "choice" },
        h("input", { type: "radio", name: "kind", value: d.kind, checked }),
        h("span", { text: tk(`kind.${d.kind}`) }),
        h("span", { class: "hint", text: d.sides.map((s) => tk(`side.${s}`)).join(" + ") })));
    });
  }
  select.addEventListener("change", showKinds);
  showKinds();
  function go() {
    const c = st.countries.find((x) => x.code === select.value);
    const kind = kinds.querySelector("input[name=kind]:checked")?.value;
    const doc = c?.documents.find((d) => d.kind === kind);
    if (!doc) return;
    st.choice = { country: c.code, kind, sides: doc.sides };
    sessionStorage.setItem(CHOICE_KEY, JSON.stringify(st.choice));
    dataStep();
  }
}

// GB 11643: the 18th character of a Chinese resident ID checks the first 17.
function cnIdValid(v) {
  if (!/^\d{17}[\dX]$/.test(v)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = w.reduce((acc, wi, i) => acc + wi * Number(v[i]), 0);
  return "10X98765432"[sum % 11] === v[17];
}

function dataStep() {
  const c = st.choice.country;
  const field = (id, label, attrs, hint) => {
    const input = h("input", { id, name: id, type: "text", autocomplete: "off", ...attrs });
    const err = h("p", { class: "error", id: `${id}-error`, hidden: true });
    input.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
    return {
      input,
      err,
      el: h("label", { class: "field", for: id }, h("span", { text: label }),
        hint ? h("span", { class: "hint", id: `${id}-hint`, text: hint }) : null, input, err),
    };
  };
  const given = field("given", t("data.given"), { autocomplete: "given-name" });
  const family = field("family", t("data.family"), { autocomplete: "family-name" });
  const local = LOCAL_SCRIPT.has(c) ? field("local", t("data.local"), {}, t("data.local_hint")) : null;
  const birth = field("birth", t("data.birth_date"), { type: "date", max: new Date().toISOString().slice(0, 10) });
  const number = field("number", t("data.number"), { autocapitalize: "characters" }, t("data.number_hint"));
  const address = needs("proof_of_address")
    ? field("address", t("data.address"), { autocomplete: "street-address" }, t("data.address_hint"))
    : null;
  const names = new Intl.DisplayNames([lang], { type: "region" });
  const nationality = h("select", { id: "nationality", class: "wide" },
    st.countries.map((x) => h("option", { value: x.code, selected: x.code === c, text: names.of(x.code) || x.name })));
  const next = h("button", { id: "next", type: "submit", text: t("next") });
  const form = h("form", { novalidate: true },
    h("p", { class: "muted", text: t("data.exactly") }),
    given.el, family.el, local?.el,
    birth.el,
    h("label", { class: "field", for: "nationality" }, h("span", { text: t("data.nationality") }), nationality),
    number.el,
    address?.el,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", text: t("back"), onclick: documentStep }), next));
  screen(t("data.title"), progress(2), form);
  const all = [given, family, local, birth, number, address].filter(Boolean);
  const show = (f, msg) => {
    f.err.textContent = msg || "";
    f.err.hidden = !msg;
    f.input.setAttribute("aria-invalid", msg ? "true" : "false");
  };
  // A field's message goes once the applicant corrects it.
  all.forEach((f) => f.input.addEventListener("input", () => show(f, "")));
  // Back here (from a later step, or on another device): what was entered comes back from
  // the server, the number only for the same document. Nothing typed meanwhile is replaced.
  if (st.case?.status === "draft") {
    guarded(async () => {
      const r = await api("GET", `/flow/v1/cases/${st.case.id}/data`);
      if (!r.ok || !form.isConnected) return;
      const d = r.data;
      const put = (f, v) => {
        if (f && v && !f.input.value) f.input.value = v;
      };
      put(given, d.name?.given);
      put(family, d.name?.family);
      put(local, d.name?.local);
      put(birth, d.birth_date);
      put(address, d.address);
      if (d.document?.country === c && d.document?.type === st.choice.kind) put(number, d.document.number);
      if (d.nationality && st.countries.some((x) => x.code === d.nationality)) nationality.value = d.nationality;
      form.dataset.prefilled = "true";
    });
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    all.forEach((f) => show(f, ""));
    let bad = null;
    const fail = (f, msg) => {
      show(f, msg);
      bad = bad || f;
    };
    if (!given.input.value.trim() && !family.input.value.trim()) fail(given, t("data.need_name"));
    if (!family.input.value.trim()) fail(family, t("data.need_name"));
    const bd = birth.input.value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(bd)) fail(birth, t("data.need_date"));
    else if (bd > new Date().toISOString().slice(0, 10)) fail(birth, t("data.future_date"));
    const num = number.input.value.trim().toUpperCase().replace(/\s+/g, "");
    if (!num) fail(number, t("data.need_number"));
    else if (c === "CN" && st.choice.kind === "national_id" && !cnIdValid(num)) fail(number, t("data.bad_checksum"));
    if (address && address.input.value.trim().length < 5) fail(address, t("data.need_address"));
    if (bad) return bad.input.focus();
    const body = {
      nationality: nationality.value,
      document: { country: c, type: st.choice.kind, number: num },
      name: { given: given.input.value.trim(), family: family.input.value.trim() },
      birth_date: bd,
    };
    if (local && local.input.value.trim()) body.name.local = local.input.value.trim();
    if (address) body.address = address.input.value.trim();
    busy(next, true);
    const r = await api("PUT", `/flow/v1/cases/${st.case.id}/data`, JSON.stringify(body), "application/json");
    busy(next, false);
    if (!r.ok) {
      const code = r.data?.error?.code || "";
      const target = code.includes("birth") ? birth : code.includes("document") ? number
        : code.includes("name") ? family : code.includes("address") && address ? address : null;
      if (target) {
        show(target, errorText(r));
        return target.input.focus();
      }
      return next.after(notice("bad", errorText(r)));
    }
    emit("step", { step: "data" });
    route();
  });
}

// Draws what the pre-check found on the photo: the document's outline and each finding's
// region (a glare box), in the photo's own pixels.
function drawFindings(canvas, report) {
  const g = canvas.getContext("2d");
  g.lineWidth = Math.max(3, canvas.width / 200);
  const corners = report.document?.corners;
  if (corners && corners.every(Boolean)) {
    g.strokeStyle = "#2e7d32";
    g.beginPath();
    corners.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
    g.stroke();
  }
  g.strokeStyle = "#d32f2f";
  for (const r of report.reasons || []) {
    if (Array.isArray(r.region) && r.region.length === 4) {
      const [x, y, w, hh] = r.region;
      g.strokeRect(x, y, w, hh);
    }
  }
}

async function imageToCanvas(blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = h("canvas", { role: "img", "aria-label": t("side.preview") });
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  return canvas;
}

function sideStep(side) {
  const kind = st.choice.kind;
  const n = 3 + st.choice.sides.indexOf(side);
  const file = h("input", { type: "file", id: "file", accept: "image/jpeg,image/png,image/webp,image/heic", capture: "environment", class: "sr" });
  const pick = h("label", { for: "file", class: "button secondary", text: t("side.upload") });
  const camera = h("button", { id: "camera", text: t("side.camera"), onclick: () => openCamera("environment", shoot) });
  const area = h("div", { class: "preview-area" });
  screen(
    t("side.title", { side: tk(`side.${side}`), kind: tk(`kind.${kind}`) }),
    progress(n),
    h("h2", { text: t("rules.title") }),
    h("ul", { class: "rules" }, ["rules.corners", "rules.glare", "rules.focus", "rules.cover", "rules.original"]
      .map((k) => h("li", { text: tk(k) }))),
    h("div", { class: "actions" }, navigator.mediaDevices?.getUserMedia ? camera : null, file, pick),
    area,
    handoff(),
  );
  follow();
  file.addEventListener("change", () => file.files[0] && check(file.files[0]));
  function shoot(blob) {
    check(blob);
  }
  async function check(blob) {
    unfollow();
    area.replaceChildren(h("div", { class: "spinner", role: "status", "aria-label": t("side.checking") }));
    const started = performance.now();
    const r = await api("POST", "/flow/v1/precheck", blob, blob.type || "application/octet-stream");
    const ms = Math.round(performance.now() - started);
    window.idgatePrecheckMs = ms;
    let canvas = null;
    try {
      canvas = await imageToCanvas(blob);
    } catch {
      canvas = null;
    }
    if (!r.ok) {
      area.replaceChildren(notice("bad", errorText(r)));
      return;
    }
    const report = r.data;
    if (canvas) drawFindings(canvas, report);
    const use = h("button", { id: "use-photo", text: t("side.use"), onclick: () => upload(blob, use) });
    const retake = h("button", { id: "retake", class: "secondary", text: t("side.retake"), onclick: () => sideStep(side) });
    const reasons = report.reasons || [];
    area.replaceChildren(
      h("div", { class: "preview", id: "precheck", "data-verdict": report.verdict }, canvas),
      reasons.length
        ? h("div", {}, notice("bad", t("side.problems")), reasonList(reasons))
        : notice("good", t("side.looks_good")),
      h("div", { class: "actions" }, reasons.length ? [retake, h("button", { id: "use-anyway", class: "link", text: t("side.use_anyway"), onclick: (e) => upload(blob, e.target) })] : [use, retake]),
    );
    live.textContent = reasons.length ? t("side.problems") : t("side.looks_good");
  }
  async function upload(blob, button) {
    const form = new FormData();
    form.append("kind", kind);
    form.append("side", side);
    form.append("file", blob, "photo");
    busy(button, true);
    const r = await api("POST", `/flow/v1/cases/${st.case.id}/documents`, form, null);
    busy(button, false);
    if (!r.ok) return button.after(notice("bad", errorText(r)));
    emit("step", { step: `document.${side}` });
    route();
  }
}

// A document that shows the applicant's name and address (a utility bill, a bank
// statement): a photo or a PDF, read by a reviewer.
function addressStep() {
  const file = h("input", { type: "file", id: "poa-file", accept: "image/jpeg,image/png,image/webp,image/heic,application/pdf", class: "sr" });
  const pick = h("label", { for: "poa-file", class: "button", text: t("address.upload") });
  const area = h("div", { class: "preview-area", "aria-live": "polite" });
  screen(
    t("address.title"),
    progress(stepsTotal() - 1),
    h("p", { text: t("address.lead") }),
    h("ul", { class: "rules" }, ["address.rule_recent", "address.rule_name", "address.rule_whole", "address.rule_kinds"]
      .map((k) => h("li", { text: t(k) }))),
    h("div", { class: "actions" }, file, pick),
    area,
  );
  follow();
  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    unfollow();
    const form = new FormData();
    form.append("kind", "proof_of_address");
    form.append("side", "page");
    form.append("file", chosen, "document");
    area.replaceChildren(h("div", { class: "spinner", role: "status", "aria-label": t("address.sending") }));
    const r = await api("POST", `/flow/v1/cases/${st.case.id}/documents`, form, null);
    if (!r.ok) return area.replaceChildren(notice("bad", errorText(r)));
    emit("step", { step: "proof_of_address" });
    route();
  });
}

function reasonList(reasons) {
  return h("ul", { class: "reasons" }, reasons.map((r) => {
    const tx = reasonText(r.code, r);
    return h("li", { "data-code": r.code },
      h("strong", { text: tx.message || r.message }),
      h("p", { text: tx.fix || r.fix }),
      h("span", { class: "code", text: r.code }));
  }));
}

// The camera in a frame to align with; `take` gets a JPEG of the frame when the button is
// pressed. Rear camera for documents, front camera for the face.
async function openCamera(facing, take) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: facing }, width: { ideal: 1920 }, height: { ideal: 1080 } },
      audio: false,
    });
  } catch {
    app.append(notice("bad", t("camera.denied")));
    return;
  }
  const video = h("video", { autoplay: true, muted: true, playsinline: true });
  video.srcObject = stream;
  const stop = () => stream.getTracks().forEach((x) => x.stop());
  const snap = h("button", { id: "take", text: t("camera.take"), onclick: async () => {
    const c = h("canvas");
    c.width = video.videoWidth;
    c.height = video.videoHeight;
    c.getContext("2d").drawImage(video, 0, 0);
    stop();
    wrap.remove();
    take(await new Promise((res) => c.toBlob(res, "image/jpeg", 0.92)));
  } });
  // Nothing to take before the first frame arrives.
  snap.disabled = true;
  video.addEventListener("loadeddata", () => { snap.disabled = false; });
  const cancel = h("button", { class: "secondary", text: t("cancel"), onclick: () => { stop(); wrap.remove(); } });
  const wrap = h("div", {},
    h("div", { class: "preview" }, video, h("div", { class: `frame${facing === "user" ? " face" : ""}` })),
    h("div", { class: "actions" }, snap, cancel));
  app.append(wrap);
  snap.focus();
}

function faceStep() {
  const n = stepsTotal();
  const status = h("div", {});
  const liveBtn = h("button", { id: "liveness", text: t("face.start"), onclick: liveness });
  const file = h("input", { type: "file", id: "selfie", accept: "image/jpeg,image/png,image/webp", capture: "user", class: "sr" });
  const pick = h("label", { for: "selfie", class: "button secondary", text: t("face.upload") });
  screen(
    t("face.title"),
    progress(n - 1),
    h("p", { text: t("face.lead") }),
    h("ul", { class: "rules" }, ["face.rule_light", "face.rule_alone", "face.rule_uncovered"].map((k) => h("li", { text: tk(k) }))),
    h("div", { class: "actions" }, navigator.mediaDevices?.getUserMedia ? liveBtn : null,
      st.session.liveness_required ? null : [file, pick]),
    status,
  );
  follow();
  file.addEventListener("change", async () => {
    unfollow();
    const form = new FormData();
    form.append("kind", "selfie");
    form.append("file", file.files[0], "selfie");
    const r = await api("POST", `/flow/v1/cases/${st.case.id}/documents`, form, null);
    if (!r.ok) return status.replaceChildren(notice("bad", errorText(r)));
    emit("step", { step: "face" });
    route();
  });
  // The challenge first: the applicant sees the movements asked, in their order, and starts
  // the camera when ready. Each movement gets its own time with its cue on the video.
  async function liveness() {
    unfollow();
    busy(liveBtn, true);
    const c = await api("POST", `/flow/v1/cases/${st.case.id}/liveness`, "", null);
    busy(liveBtn, false);
    if (!c.ok) return status.replaceChildren(notice("bad", errorText(c)));
    // One challenge at a time: the start button comes back only if this one fails.
    liveBtn.hidden = true;
    const ready = h("button", { id: "ready", text: t("face.ready"), onclick: () => record(c.data, ready) });
    status.replaceChildren(
      h("p", { text: t("face.you_will") }),
      h("ol", { id: "actions" }, c.data.actions.map((a) => h("li", { "data-action": a, text: tk(`action.${a}`) }))),
      h("div", { class: "actions" }, ready),
    );
    ready.focus();
  }

  async function record(challenge, ready) {
    busy(ready, true);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 640 } }, audio: false });
    } catch {
      return status.replaceChildren(notice("bad", t("camera.denied")));
    }
    const stop = () => stream.getTracks().forEach((x) => x.stop());
    const video = h("video", { class: "mirror", autoplay: true, muted: true, playsinline: true });
    video.srcObject = stream;
    const cue = h("p", { class: "cue", "aria-live": "assertive" });
    status.replaceChildren(h("div", { class: "preview" }, video, h("div", { class: "frame face" }), cue));
    await new Promise((res) => (video.onloadeddata = res));
    // A frame every 250 ms (within the server's count, gap and span limits). While each
    // movement is asked, frames go to the server's guide, one at a time: its advice is shown
    // under the cue ("turn further left", "more light"...), and a movement it sees done ends
    // that movement's time early. A blink cannot be seen in one frame: it gets its time.
    const rules = challenge.frames;
    const plan = [
      { doing: "face_camera", min: 1000, max: 2500 },
      ...challenge.actions.map((a) => (a === "blink"
        ? { doing: a, min: 2500, max: 2500 }
        : { doing: a, min: 750, max: 3500 })),
    ];
    const total = plan.reduce((n, p) => n + p.max, 0);
    const gap = Math.max(250, Math.min(rules.max_gap_ms * 0.8, total / (rules.max - 1)));
    const frames = [];
    const stamps = [];
    const t0 = performance.now();
    // A frame the camera has not replaced yet (a busy phone, a slow camera) is not taken
    // twice: the server refuses a recording with a frame seen before. Wait for the next one.
    let lastBytes = null;
    const same = (a, b) => b !== null && a.length === b.length && a.every((x, i) => x === b[i]);
    const grab = async () => {
      for (let tries = 0; tries < 25; tries += 1) {
        const cv = h("canvas");
        cv.width = video.videoWidth;
        cv.height = video.videoHeight;
        cv.getContext("2d").drawImage(video, 0, 0);
        const at = Math.round(performance.now() - t0);
        const blob = await new Promise((res) => cv.toBlob(res, "image/jpeg", 0.9));
        const bytes = new Uint8Array(await blob.arrayBuffer());
        if (!same(bytes, lastBytes)) {
          lastBytes = bytes;
          stamps.push(at);
          return blob;
        }
        await new Promise((res) => setTimeout(res, 40));
      }
      return null;
    };
    const hint = h("span", { class: "hint-line", id: "hint" });
    cue.after(hint);
    const guideUrl = `/flow/v1/cases/${st.case.id}/liveness/${challenge.id}/guide`;
    const said = (advice, doing) => (advice === "turn_further" ? tk(`hint.turn_further.${doing}`) : tk(`hint.${advice}`));
    let current = null;
    for (const phase of plan) {
      current = phase.doing;
      cue.textContent = tk(`action.${phase.doing}`);
      hint.textContent = "";
      const start = performance.now();
      let done = false;
      let asking = false;
      while (frames.length < rules.max) {
        const since = performance.now() - start;
        if (since >= phase.max || (done && since >= phase.min)) break;
        const frame = await grab();
        if (!frame) continue;
        frames.push(frame);
        if (!asking && !done) {
          asking = true;
          const doing = phase.doing;
          api("POST", `${guideUrl}?doing=${doing}`, frame, "image/jpeg").then((g) => {
            asking = false;
            if (!g.ok || doing !== current) return;
            const advice = g.data.advice;
            if (advice === "good" && doing !== "blink") done = true;
            hint.dataset.advice = advice;
            hint.textContent = advice === "good" ? (doing === "blink" ? "" : t("hint.good")) : said(advice, doing);
          }).catch(() => { asking = false; });
        }
        await new Promise((res) => setTimeout(res, gap));
      }
    }
    stop();
    cue.textContent = t("face.checking");
    const form = new FormData();
    frames.forEach((f, i) => form.append("frame", f, `f${i}.jpg`));
    form.append("timestamps_ms", stamps.join(","));
    const r = await api("POST", `/flow/v1/cases/${st.case.id}/liveness/${challenge.id}`, form, null);
    if (r.ok && r.data.status === "passed") {
      emit("step", { step: "face" });
      return route();
    }
    // What the judge saw, for support (a code's detail, in the server's words, not shown).
    status.replaceChildren(r.ok
      ? h("div", { id: "liveness-failed", "data-failure": r.data.failure || "", "data-frames": frames.length },
        notice("bad", t("face.failed")), reasonList([r.data]))
      : notice("bad", errorText(r)));
    liveBtn.textContent = t("face.again");
    liveBtn.hidden = false;
  }
}

function reviewStep() {
  const submit = h("button", { id: "submit", text: t("review.submit"), onclick: send });
  const docs = (st.case.documents || []).map((d) => h("li", { text: `${tk(`kind.${d.kind}`)} — ${tk(`side.${d.side}`)}` }));
  screen(
    t("review.title"),
    progress(stepsTotal()),
    h("p", { text: t("review.lead") }),
    h("h2", { text: t("review.documents") }),
    h("ul", {}, docs),
    h("div", { class: "actions" },
      h("button", { id: "edit", class: "secondary", text: t("review.edit"), onclick: documentStep }), submit),
  );
  follow();
  async function send() {
    unfollow();
    busy(submit, true);
    const r = await api("POST", `/flow/v1/cases/${st.case.id}/submit`, "", null);
    busy(submit, false);
    if (!r.ok) return submit.parentElement.after(notice("bad", errorText(r)));
    sessionStorage.removeItem(CHOICE_KEY);
    st.choice = null;
    emit("submitted", { case_id: st.case.id });
    route();
  }
}

// ---- following the case ----------------------------------------------------------------

// The server pushes the case's version (`GET /flow/v1/events`) whenever something moves it,
// on this device or another. The screen that waits says what to do then (`follow`); one
// where this device is busy (a photo being checked, a recording) lets it pass (`unfollow`).
function unfollow() {
  st.onChange = null;
}
function follow(then = reroute) {
  st.onChange = then;
}

// The case moved elsewhere: show where it is now, once the applicant is not typing here.
function reroute() {
  const el = document.activeElement;
  if (el?.tagName === "INPUT") {
    el.addEventListener("blur", () => st.onChange === reroute && guarded(route), { once: true });
    return;
  }
  return route();
}

function guarded(fn) {
  return Promise.resolve()
    .then(fn)
    .catch((e) => {
      if (!(e instanceof Stop)) throw e;
    });
}

function heard(version) {
  window.idgatePushes = (window.idgatePushes || 0) + 1;
  if (version === st.version) return;
  st.version = version;
  if (st.onChange) guarded(st.onChange);
}

// One `text/event-stream` block: its event name and data.
function parseEvent(block) {
  const ev = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const key = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (key === "event") ev.event = value;
    if (key === "data") ev.data = ev.data ? `${ev.data}\n${value}` : value;
  }
  return ev;
}

// The stream, read with `fetch` (an EventSource cannot send the session's header), and
// opened again after a dropped connection, waiting longer each time up to 30 s.
async function listen() {
  let wait = 1000;
  while (!st.over) {
    let res = null;
    try {
      res = await fetch("/flow/v1/events", { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } });
    } catch {
      res = null;
    }
    if (res?.status === 401) {
      const data = await res.json().catch(() => null);
      return ended(data?.error?.code === "session_revoked" ? "revoked" : "expired");
    }
    if (res?.ok && res.body) {
      wait = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || st.over) break;
          buf += value;
          let end;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            const ev = parseEvent(buf.slice(0, end));
            buf = buf.slice(end + 2);
            if (ev.event === "ended") return ended(ev.data === "revoked" ? "revoked" : "expired");
            if (ev.event === "case") heard(JSON.parse(ev.data).version);
          }
        }
      } catch {
        // The connection dropped: open it again below.
      }
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 30000);
  }
}

function status() {
  const c = st.case;
  const body = [];
  const title = tk(`status.${c.status}`);
  if (!FINAL.includes(c.status)) {
    body.push(h("div", { class: "spinner", role: "status", "aria-label": title }), h("p", { text: t("status.wait") }));
  }
  if (c.queue && c.queue.position > 1) {
    const minutes = c.queue.estimated_seconds == null ? null : Math.max(1, Math.ceil(c.queue.estimated_seconds / 60));
    body.push(h("p", { id: "queue", text: minutes == null
      ? t("status.queue", { ahead: c.queue.position - 1 })
      : t("status.queue_eta", { ahead: c.queue.position - 1, minutes }) }));
  }
  if (c.status === "approved") {
    body.push(notice("good", t("status.approved_lead")));
  }
  if (c.status === "rejected") {
    body.push(notice("bad", t("status.rejected_lead")), reasonList(c.reasons));
    body.push(h("p", { text: t("status.support") }));
  }
  if (c.status === "resubmission_requested") {
    body.push(notice("warn", t("status.resubmit_lead")), reasonList(c.reasons));
    const again = h("button", { id: "again", text: t("status.again"), onclick: restart });
    if (c.retry_after) {
      const until = Date.parse(c.retry_after);
      const wait = h("p", { id: "countdown" });
      const tick = () => {
        const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        wait.textContent = t("status.retry_in", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") });
        again.disabled = s > 0;
        if (s > 0 && wait.isConnected) setTimeout(tick, 1000);
      };
      body.push(wait);
      setTimeout(tick, 0);
    }
    body.push(h("div", { class: "actions" }, again));
  }
  for (const cm of c.comments || []) body.push(h("blockquote", { text: cm.body }));
  if (FINAL.includes(c.status) && st.session.redirect_url) {
    body.push(h("p", {}, h("a", { class: "button", href: st.session.redirect_url, text: t("status.back") })));
  }
  screen(title, ...body);
  document.getElementById("screen-title").dataset.status = c.status;
  if (FINAL.includes(c.status)) {
    if (st.announced !== c.id + c.status) emit("decided", { case_id: c.id, status: c.status });
    st.announced = c.id + c.status;
  }
  // Until it is decided; and after, another device may start again.
  follow();
  async function restart() {
    const r = await api("POST", "/flow/v1/cases", "", null);
    if (!r.ok) return app.append(notice("bad", errorText(r)));
    st.case = r.data;
    st.started = true;
    route();
  }
}

// The same session on another device: the link carries the token; this device follows.
function handoff() {
  const url = `${location.origin}/flow#s=${token}`;
  const copy = h("button", { class: "link", text: t("handoff.copy"), onclick: async () => {
    try {
      await navigator.clipboard.writeText(url);
      copy.textContent = t("handoff.copied");
    } catch {
      copy.textContent = t("handoff.copy_failed");
    }
  } });
  const img = h("img", { class: "qr", id: "qr", alt: t("handoff.qr"), width: 160, height: 160 });
  fetch("/flow/v1/qr", { headers: { authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? r.blob() : null))
    .then((b) => { if (b) img.src = URL.createObjectURL(b); })
    .catch(() => img.remove());
  return h("section", { class: "handoff", "aria-labelledby": "handoff-title" },
    h("h2", { id: "handoff-title", text: t("handoff.title") }),
    h("p", { class: "muted", text: t("handoff.lead") }),
    img,
    h("p", {}, copy));
}

function ended(why) {
  unfollow();
  st.over = true;
  sessionStorage.removeItem(SESSION_KEY);
  screen(tk(`ended.${why}.title`), h("p", { text: tk(`ended.${why}.lead`) }));
}

// ---- start ---------------------------------------------------------------------------

document.getElementById("lang").addEventListener("change", async (e) => {
  lang = e.target.value;
  const u = new URL(location.href);
  u.searchParams.set("lang", lang);
  history.replaceState(null, "", u.pathname + u.search);
  await loadText();
  run();
});

async function run() {
  try {
    await route();
    if (!st.listening && !st.over) {
      st.listening = true;
      listen();
    }
  } catch (e) {
    if (!(e instanceof Stop)) {
      screen(t("error.title"), notice("bad", t("error.generic")));
      throw e;
    }
  }
}

await loadText();
if (!token) ended("missing");
else run();
