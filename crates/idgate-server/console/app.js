// The reviewer console. ES modules (this one and the pages' shared `dom.js`), no
// dependencies, no build step. Every string shown comes from the message catalogue (`t`
// for a fixed key, `tk` for a computed one); every value from the server is put in the
// page as text, never as HTML. The session is an HttpOnly cookie the script never sees;
// state changes carry the CSRF token from /me.

import { busy, fill, h, notice } from "./dom.js";
import * as evidence from "./case.js";

const app = document.getElementById("app");
const live = document.getElementById("live");
const nav = document.getElementById("nav");
const dialog = document.getElementById("reauth");
let lang = document.documentElement.lang || "en";
let msgs = {};
let reasons = [];
let me = null;
let meta = null;
let inviteToken = null;
let render = () => {};

class Stop extends Error {}
evidence.setup({ t, tk, when });

// ---- text ----------------------------------------------------------------------------

function t(key, vars) {
  return fill(msgs[key] ?? key, vars);
}
function tk(key, vars) {
  return t(key, vars);
}
function reasonOf(code) {
  return reasons.find((r) => r.code === code);
}
function reasonText(code) {
  const r = reasonOf(code);
  return r ? r.texts[lang] || r.texts.en : { message: code, fix: "" };
}
async function loadText() {
  const [m, r] = await Promise.all([
    fetch(`/console/assets/${lang}.json`).then((x) => x.json()),
    reasons.length ? null : fetch("/v1/reasons").then((x) => x.json()),
  ]);
  msgs = m;
  if (r) reasons = r.reasons;
  document.documentElement.lang = lang;
  document.title = t("title");
  document.getElementById("brand").textContent = t("brand");
  document.getElementById("lang-label").textContent = t("language");
  document.getElementById("skip").textContent = t("skip");
  document.getElementById("lang").value = lang;
}
function when(iso) {
  return new Date(iso).toLocaleString(lang === "zh-Hans" ? "zh-CN" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
}
function waited(mins) {
  if (mins < 60) return t("wait.minutes", { n: mins });
  if (mins < 48 * 60) return t("wait.hours", { n: Math.floor(mins / 60) });
  return t("wait.days", { n: Math.floor(mins / 1440) });
}

// ---- DOM -----------------------------------------------------------------------------

function screen(title, ...children) {
  const h1 = h("h1", { id: "screen-title", tabindex: "-1", text: title });
  app.replaceChildren(h1, ...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  h1.focus();
  live.textContent = title;
}
function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id, text: label }), hintEl, input);
}
function errorText(r) {
  const code = r.data?.error?.code;
  const key = `error.${code}`;
  return code && key in msgs ? tk(key) : r.data?.error?.message || t("error.generic");
}
/// A form whose submit runs `action`; the result's error, if any, shows above the button.
function form(attrs, fields, label, action) {
  const out = h("div", { class: "form-error", "aria-live": "assertive" });
  const button = h("button", { type: "submit", text: label });
  const f = h("form", { ...attrs, novalidate: true }, fields, out, h("div", { class: "actions" }, button));
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    out.replaceChildren();
    busy(button, true);
    try {
      const err = await action(f);
      if (err) out.replaceChildren(notice("bad", err));
    } catch (e) {
      if (!(e instanceof Stop)) out.replaceChildren(notice("bad", t("error.generic")));
    } finally {
      busy(button, false);
    }
  });
  return f;
}

// ---- the server ----------------------------------------------------------------------

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && me?.csrf_token) headers["x-csrf-token"] = me.csrf_token;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, data: { error: { code: "offline" } } };
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (data?.csrf_token) me = { ...(me || {}), csrf_token: data.csrf_token, stage: data.stage };
  const code = data?.error?.code;
  if (res.status === 401 && (code === "signed_out" || code === "sign_in_incomplete")) {
    me = null;
    signIn(t("signin.ended"));
    throw new Stop();
  }
  return { ok: res.ok, status: res.status, data };
}

/// A state change that may ask for the password and second factor again first.
async function act(method, path, body) {
  let r = await api(method, path, body);
  if (r.status === 403 && r.data?.error?.code === "reauthentication_required") {
    const ok = await reauth();
    if (!ok) return r;
    r = await api(method, path, body);
  }
  return r;
}

async function loadMe() {
  const r = await fetch("/console/v1/me", { credentials: "same-origin" });
  if (!r.ok) {
    me = null;
    return null;
  }
  me = await r.json();
  if (me.stage === "full" && !meta) {
    meta = await fetch("/console/v1/meta", { credentials: "same-origin" }).then((x) => x.json());
  }
  return me;
}

// ---- passkeys (WebAuthn) -------------------------------------------------------------

const canPasskey = !!window.PublicKeyCredential;
function toBuf(s) {
  const b = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b + "=".repeat((4 - (b.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
}
function b64u(buf) {
  let bin = "";
  for (const x of new Uint8Array(buf)) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function creationOptions(o) {
  const pk = structuredClone(o.publicKey);
  pk.challenge = toBuf(pk.challenge);
  pk.user.id = toBuf(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: toBuf(c.id) }));
  return pk;
}
function requestOptions(o) {
  const pk = structuredClone(o.publicKey);
  pk.challenge = toBuf(pk.challenge);
  pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: toBuf(c.id) }));
  return pk;
}

/// Registers a passkey for the signed-in (or enrolling) reviewer; answers the server's
/// reply, or an error text.
async function addPasskey(name) {
  const s = await api("POST", "/console/v1/passkeys/register/start");
  if (!s.ok) return { error: errorText(s) };
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: creationOptions(s.data.options) });
  } catch {
    return { error: t("passkey.cancelled") };
  }
  const r = await api("POST", "/console/v1/passkeys/register/finish", {
    ceremony: s.data.ceremony,
    name,
    credential: {
      id: cred.id, rawId: b64u(cred.rawId), type: cred.type,
      response: {
        attestationObject: b64u(cred.response.attestationObject),
        clientDataJSON: b64u(cred.response.clientDataJSON),
        transports: cred.response.getTransports ? cred.response.getTransports() : undefined,
      },
      extensions: cred.getClientExtensionResults(),
    },
  });
  return r.ok ? { data: r.data } : { error: errorText(r) };
}

/// Signs in with a passkey (or, with `purpose` "reauth", confirms the signed-in reviewer).
async function usePasskey(purpose) {
  const s = await api("POST", "/console/v1/passkeys/sign-in/start", {});
  if (!s.ok) return { error: errorText(s) };
  let cred;
  try {
    cred = await navigator.credentials.get({ publicKey: requestOptions(s.data.options) });
  } catch {
    return { error: t("passkey.cancelled") };
  }
  const r = await api("POST", "/console/v1/passkeys/sign-in/finish", {
    ceremony: s.data.ceremony,
    purpose,
    credential: {
      id: cred.id, rawId: b64u(cred.rawId), type: cred.type,
      response: {
        authenticatorData: b64u(cred.response.authenticatorData),
        clientDataJSON: b64u(cred.response.clientDataJSON),
        signature: b64u(cred.response.signature),
        userHandle: cred.response.userHandle ? b64u(cred.response.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    },
  });
  return r.ok ? { data: r.data } : { error: errorText(r) };
}

/// A button that signs in with a passkey, its errors shown in `out`.
function passkeyButton(out) {
  if (!canPasskey) return null;
  const b = h("button", { type: "button", class: "secondary", id: "passkey-signin", text: t("passkey.signin") });
  b.addEventListener("click", async () => {
    busy(b, true);
    out.replaceChildren();
    try {
      const r = await usePasskey(undefined);
      if (r.error) out.replaceChildren(notice("bad", r.error));
      else await afterStage("full");
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    } finally {
      busy(b, false);
    }
  });
  return h("div", { class: "alt" }, h("p", { class: "muted", text: t("passkey.or") }), b);
}

// ---- navigation ----------------------------------------------------------------------

function showNav() {
  if (!me || me.stage !== "full") {
    nav.hidden = true;
    nav.replaceChildren();
    return;
  }
  const link = (href, key) =>
    h("a", { href, text: t(key), "aria-current": location.hash.startsWith(href) ? "page" : null });
  const out = h("button", { type: "button", class: "link", id: "sign-out", text: t("nav.sign_out") });
  out.addEventListener("click", async () => {
    await api("POST", "/console/v1/sign-out");
    me = null;
    meta = null;
    // The next person to sign in here starts at the queue.
    history.replaceState(null, "", location.pathname + location.search);
    signIn(t("signin.signed_out"));
  });
  nav.replaceChildren(
    ...[
      link("#/queue", "nav.queue"),
      link("#/changes", "nav.changes"),
      me.role === "admin" ? link("#/admin", "nav.admin") : null,
      link("#/account", "nav.account"),
      h("span", { class: "who", text: t("nav.who", { name: me.name, role: tk(`role.${me.role}`) }) }),
      out,
    ].filter(Boolean),
  );
  nav.hidden = false;
}

async function route() {
  showNav();
  const hash = location.hash;
  try {
    if (hash.startsWith("#/case/")) return await caseView(decodeURIComponent(hash.slice(7)));
    if (hash.startsWith("#/applicant/")) return await applicantView(decodeURIComponent(hash.slice(12)));
    if (hash.startsWith("#/entity/")) return await entityView(decodeURIComponent(hash.slice(9)));
    if (hash.startsWith("#/admin") && me.role === "admin") return await adminView();
    if (hash.startsWith("#/account")) return await accountView();
    if (hash.startsWith("#/changes")) return await changesView();
    return await queueView();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
}
window.addEventListener("hashchange", () => {
  // An invitation link opened in a console tab that is already open.
  const m = location.hash.match(/[#&]invite=(idi_[0-9a-f]{64})/);
  if (m) {
    history.replaceState(null, "", location.pathname + location.search);
    inviteView(m[1]).catch((e) => {
      if (!(e instanceof Stop)) throw e;
    });
  } else if (me?.stage === "full") {
    route();
  }
});

async function afterStage(stage) {
  if (stage === "second_factor") return secondFactor();
  if (stage === "enrol") return enrol();
  await loadMe();
  if (!location.hash.startsWith("#/")) history.replaceState(null, "", "#/queue");
  return route();
}

// ---- signing in ----------------------------------------------------------------------

function signIn(message) {
  showNav();
  const name = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const pw = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  render = () => signIn(message);
  const alt = h("div", { "aria-live": "assertive" });
  screen(
    t("signin.title"),
    message ? notice("warn", message) : null,
    passkeyButton(alt),
    alt,
    form(
      { id: "signin" },
      [field(t("signin.name"), name), field(t("signin.password"), pw)],
      t("signin.submit"),
      async () => {
        if (!name.value.trim() || !pw.value) return t("signin.missing");
        const r = await api("POST", "/console/v1/sign-in", { name: name.value.trim(), password: pw.value });
        if (!r.ok) return errorText(r);
        pw.value = "";
        await afterStage(r.data.stage);
      },
    ),
  );
}

function secondFactor() {
  showNav();
  let recovery = false;
  const code = h("input", {
    type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9 ]*", maxlength: "7", required: true,
  });
  const wrap = field(t("second.code"), code, t("second.code_hint"));
  const toggle = h("button", { type: "button", class: "link", text: t("second.use_recovery") });
  toggle.addEventListener("click", () => {
    recovery = !recovery;
    code.removeAttribute("pattern");
    code.setAttribute("inputmode", recovery ? "text" : "numeric");
    code.setAttribute("maxlength", recovery ? "20" : "7");
    wrap.querySelector("label").textContent = recovery ? t("second.recovery") : t("second.code");
    wrap.querySelector(".hint").textContent = recovery ? t("second.recovery_hint") : t("second.code_hint");
    toggle.textContent = recovery ? t("second.use_app") : t("second.use_recovery");
    code.value = "";
    code.focus();
  });
  render = secondFactor;
  const alt = h("div", { "aria-live": "assertive" });
  screen(
    t("second.title"),
    h("p", { text: t("second.lead") }),
    passkeyButton(alt),
    alt,
    form({ id: "second-factor" }, [wrap, toggle], t("second.submit"), async () => {
      const v = code.value.trim();
      if (!v) return t("second.missing");
      const r = await api("POST", "/console/v1/sign-in/second-factor", recovery ? { recovery_code: v } : { code: v });
      if (!r.ok) return errorText(r);
      if (r.data.recovery_codes_left !== undefined && r.data.recovery_codes_left < 3) {
        live.textContent = t("second.few_left", { n: r.data.recovery_codes_left });
      }
      await afterStage("full");
    }),
  );
}

async function inviteView(token) {
  showNav();
  const r = await api("POST", "/console/v1/invites/inspect", { token });
  if (!r.ok) {
    render = () => inviteView(token);
    screen(t("invite.title"), notice("bad", errorText(r)), h("p", {}, h("a", { href: "/console", text: t("invite.to_signin") })));
    return;
  }
  const inv = r.data;
  const pw = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: String(inv.min_password_chars) });
  const pw2 = h("input", { type: "password", autocomplete: "new-password", required: true });
  render = () => inviteView(token);
  screen(
    t("invite.title"),
    h("p", { text: t("invite.lead", { name: inv.name, role: tk(`role.${inv.role}`) }) }),
    h("p", { class: "muted", text: t("invite.expires", { at: when(inv.expires_at) }) }),
    inv.needs_second_factor ? h("p", { text: t("invite.second_factor") }) : null,
    h("input", { type: "text", autocomplete: "username", value: inv.name, hidden: true, "aria-hidden": "true", tabindex: "-1" }),
    form(
      { id: "accept" },
      [
        field(t("invite.password"), pw, t("invite.password_hint", { n: inv.min_password_chars })),
        field(t("invite.password_again"), pw2),
      ],
      t("invite.submit"),
      async () => {
        if (pw.value.length < inv.min_password_chars) return t("error.password_too_short");
        if (pw.value !== pw2.value) return t("invite.mismatch");
        const a = await api("POST", "/console/v1/invites/accept", { token, password: pw.value });
        if (!a.ok) return errorText(a);
        inviteToken = null;
        await afterStage(a.data.stage);
      },
    ),
  );
}

async function enrol() {
  showNav();
  const r = await api("POST", "/console/v1/totp/enrol");
  if (!r.ok) {
    screen(t("enrol.title"), notice("bad", errorText(r)));
    return;
  }
  const qr = URL.createObjectURL(new Blob([r.data.qr_svg], { type: "image/svg+xml" }));
  const code = h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "7", required: true });
  render = enrol;
  const viaPasskey = canPasskey ? h("button", { type: "button", class: "secondary", id: "enrol-passkey", text: t("enrol.use_passkey") }) : null;
  const alt = h("div", { "aria-live": "assertive" });
  viaPasskey?.addEventListener("click", async () => {
    busy(viaPasskey, true);
    alt.replaceChildren();
    try {
      const r = await addPasskey(t("account.default_name"));
      if (r.error) alt.replaceChildren(notice("bad", r.error));
      else if (r.data.recovery_codes) recoveryCodes(r.data.recovery_codes);
      else await afterStage("full");
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    } finally {
      busy(viaPasskey, false);
    }
  });
  screen(
    t("enrol.title"),
    h("p", { text: t("enrol.lead") }),
    viaPasskey ? h("div", { class: "alt" }, h("p", { text: t("enrol.passkey_lead") }), viaPasskey, alt, h("p", { class: "muted", text: t("enrol.or_app") })) : null,
    h("ol", { class: "steps" },
      h("li", { text: t("enrol.step_app") }),
      h("li", {},
        t("enrol.step_scan"),
        h("img", { class: "qr", src: qr, alt: t("enrol.qr_alt"), width: "200", height: "200" }),
        h("details", {}, h("summary", { text: t("enrol.cannot_scan") }),
          h("p", { text: t("enrol.type_key") }), h("code", { class: "secret", id: "totp-secret", text: r.data.secret }))),
      h("li", { text: t("enrol.step_code") })),
    form({ id: "confirm" }, [field(t("enrol.code"), code)], t("enrol.submit"), async () => {
      const c = await api("POST", "/console/v1/totp/confirm", { code: code.value.trim() });
      if (!c.ok) return errorText(c);
      URL.revokeObjectURL(qr);
      recoveryCodes(c.data.recovery_codes);
    }),
  );
}

function recoveryCodes(codes) {
  const done = h("button", { type: "button", id: "codes-stored", text: t("codes.done") });
  done.addEventListener("click", () => afterStage("full"));
  render = () => recoveryCodes(codes);
  screen(
    t("codes.title"),
    notice("warn", t("codes.lead")),
    h("ol", { class: "codes", id: "recovery-codes" }, codes.map((c) => h("li", {}, h("code", { text: c })))),
    h("div", { class: "actions" }, done),
  );
}

/// Asks for the password and a second factor again; resolves true once accepted.
function reauth() {
  return new Promise((resolve) => {
    const pw = h("input", { type: "password", autocomplete: "current-password", required: true });
    const code = h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "7" });
    const cancel = h("button", { type: "button", class: "secondary", text: t("reauth.cancel") });
    const f = form({ id: "reauth-form" }, [
      field(t("signin.password"), pw),
      me?.totp ? field(t("second.code"), code, t("second.code_hint")) : null,
      !me?.totp && me?.passkeys ? h("p", { class: "muted", text: t("passkey.reauth_lead") }) : null,
    ], t("reauth.submit"), async () => {
      if (!me?.totp && me?.passkeys) return t("passkey.reauth_lead");
      const body = { password: pw.value };
      if (me?.totp) body.code = code.value.trim();
      const r = await api("POST", "/console/v1/reauth", body);
      if (!r.ok) return errorText(r);
      dialog.close();
      resolve(true);
    });
    f.querySelector(".actions").append(cancel);
    if (canPasskey && me?.passkeys) {
      const pb = h("button", { type: "button", class: "secondary", id: "reauth-passkey", text: t("passkey.reauth") });
      pb.addEventListener("click", async () => {
        busy(pb, true);
        try {
          const r = await usePasskey("reauth");
          if (r.error) {
            f.querySelector(".form-error").replaceChildren(notice("bad", r.error));
          } else {
            dialog.close();
            resolve(true);
          }
        } finally {
          busy(pb, false);
        }
      });
      f.querySelector(".actions").append(pb);
    }
    cancel.addEventListener("click", () => {
      dialog.close();
      resolve(false);
    });
    dialog.replaceChildren(
      h("h2", { id: "reauth-title", text: t("reauth.title") }),
      h("p", { text: t("reauth.lead") }),
      f,
    );
    dialog.showModal();
    pw.focus();
  });
}

// ---- the queue -----------------------------------------------------------------------

const filters = { level: "", reason: "", country: "", holder: "any", min_wait_mins: "0", sort: "oldest" };

function select(name, options, value) {
  const s = h("select", { name });
  for (const [v, label] of options) s.append(h("option", { value: v, text: label, selected: v === value }));
  return s;
}

async function queueView() {
  render = queueView;
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== "" && v !== "0"));
  const started = performance.now();
  const r = await api("GET", `/v1/review/queue?${q}`);
  const level = select("level", [["", t("queue.any")], ...meta.levels.map((l) => [l, l])], filters.level);
  const reason = select("reason", [["", t("queue.any")], ...reasons.map((x) => [x.code, x.code])], filters.reason);
  const country = h("input", { type: "text", name: "country", maxlength: "2", value: filters.country, autocomplete: "off", class: "short" });
  const holder = select("holder", [["any", t("queue.holder_any")], ["unclaimed", t("queue.holder_unclaimed")], ["mine", t("queue.holder_mine")]], filters.holder);
  const wait = select("min_wait_mins", [["0", t("queue.any")], ["15", waited(15)], ["60", waited(60)], ["240", waited(240)], ["1440", waited(1440)]], filters.min_wait_mins);
  const sort = select("sort", [["oldest", t("queue.sort_oldest")], ["newest", t("queue.sort_newest")]], filters.sort);
  const filterForm = form({ id: "filters", class: "filters" }, [
    field(t("queue.level"), level),
    field(t("queue.reason"), reason),
    field(t("queue.country"), country),
    field(t("queue.holder"), holder),
    field(t("queue.min_wait"), wait),
    field(t("queue.sort"), sort),
  ], t("queue.apply"), async () => {
    Object.assign(filters, {
      level: level.value, reason: reason.value, country: country.value.trim().toUpperCase(),
      holder: holder.value, min_wait_mins: wait.value, sort: sort.value,
    });
    await queueView();
  });
  let body;
  if (!r.ok) {
    body = notice("bad", errorText(r));
  } else if (!r.data.cases.length) {
    body = h("p", { class: "empty", text: t("queue.empty") });
  } else {
    body = h("table", { class: "queue", id: "queue" },
      h("caption", { class: "sr", text: t("queue.caption") }),
      h("thead", {}, h("tr", {}, ["queue.case", "queue.applicant", "queue.country", "queue.level", "queue.reasons", "queue.waiting", "queue.held_by", "queue.actions"].map((k) => h("th", { scope: "col", text: t(k) })))),
      h("tbody", {}, r.data.cases.map(queueRow)));
  }
  screen(
    t("queue.title"),
    filterForm,
    h("p", { class: "muted", id: "queue-count", text: r.ok ? t("queue.count", { n: r.data.cases.length, ms: Math.round(performance.now() - started) }) : "" }),
    body,
  );
}

function queueRow(c) {
  const mine = c.claimed_by === me.id;
  const actions = h("td", { class: "row-actions" });
  const open = h("a", { href: `#/case/${encodeURIComponent(c.case_id)}`, text: t("queue.open"), "aria-label": t("queue.open_case", { id: c.case_id.slice(0, 8) }) });
  actions.append(open);
  const canAct = me.role !== "auditor";
  if (canAct && !c.claimed_by) actions.append(actionButton(t("case.claim"), "POST", `/v1/review/cases/${c.case_id}/claim`));
  if (canAct && mine) actions.append(actionButton(t("case.release"), "POST", `/v1/review/cases/${c.case_id}/release`));
  return h("tr", { "data-case": c.case_id },
    h("td", {}, h("code", { text: c.case_id.slice(0, 8) })),
    h("td", { text: c.uid }),
    h("td", { text: c.country }),
    h("td", { text: c.level }),
    h("td", {}, c.reasons.map((x) => h("span", { class: "tag", title: reasonText(x).message, text: x }))),
    h("td", { text: waited(c.waiting_mins) }),
    h("td", { text: c.claimed_by_name ? (mine ? t("queue.you") : c.claimed_by_name) : "—" }),
    actions);
}

function actionButton(label, method, path, body, after) {
  const b = h("button", { type: "button", class: "secondary small", text: label });
  b.addEventListener("click", async () => {
    busy(b, true);
    try {
      const r = await act(method, path, body);
      if (!r.ok) live.textContent = errorText(r);
      await (after || render)();
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    } finally {
      busy(b, false);
    }
  });
  return b;
}

// ---- a case --------------------------------------------------------------------------

async function caseView(id) {
  render = () => caseView(id);
  const r = await api("GET", `/v1/review/cases/${encodeURIComponent(id)}`);
  if (!r.ok) {
    screen(t("case.title", { id: id.slice(0, 8) }), notice("bad", errorText(r)), h("a", { href: "#/queue", text: t("case.back") }));
    return;
  }
  const c = r.data;
  const mine = c.claimed_by === me.id;
  const supervises = me.role === "supervisor" || me.role === "admin";
  const canAct = me.role !== "auditor";
  const holderLine = c.claimed_by
    ? t(mine ? "case.held_by_you" : "case.held_by_other", { name: c.claimed_by_name || c.claimed_by.slice(0, 8) })
    : t("case.unclaimed");
  const holdActions = h("div", { class: "actions" });
  if (c.status === "in_review" && canAct) {
    if (!c.claimed_by) {
      const claim = actionButton(t("case.claim"), "POST", `/v1/review/cases/${id}/claim`);
      claim.id = "claim";
      holdActions.append(claim);
    }
    if (mine || (c.claimed_by && supervises)) holdActions.append(actionButton(t("case.release"), "POST", `/v1/review/cases/${id}/release`));
    if (c.claimed_by && !mine && supervises) holdActions.append(actionButton(t("case.take_over"), "POST", `/v1/review/cases/${id}/claim`, { take_over: true }));
  }
  screen(
    t("case.title", { id: id.slice(0, 8) }),
    h("p", {}, h("a", { href: "#/queue", text: t("case.back") })),
    h("dl", { class: "summary" },
      h("dt", { text: t("case.status") }), h("dd", { id: "case-status", text: tk(`status.${c.status}`) }),
      h("dt", { text: t("case.applicant") }), h("dd", { text: c.uid }),
      h("dt", { text: t("queue.country") }), h("dd", { text: c.region }),
      h("dt", { text: t("queue.level") }), h("dd", { text: c.level }),
      h("dt", { text: t("case.holder") }), h("dd", { id: "case-holder", text: holderLine })),
    c.origin === "monitoring" ? h("p", { class: "notice bad", id: "case-origin", text: t("case.origin_monitoring") }) : null,
    holdActions,
    section("case.reasons_title", reasonList(c.reasons)),
    section("case.documents", documents(id, c.documents, c.evidence)),
    section("case.compare", evidence.compare(c.evidence?.compare)),
    section("case.faces", evidence.faces(c.evidence?.face, c.documents, (d) => docSrc(id, d))),
    section("case.findings", findings(c.findings)),
    section("case.entered", entered(c.entered)),
    section("case.liveness", evidence.liveness(c.liveness, id)),
    section("case.history", evidence.history(c.history, id)),
    section("case.comments", comments(id, c.comments, canAct)),
    c.status === "in_review" && mine ? section("case.decide", decisionForm(id)) : null,
    section("case.audit", audit(c.events)),
  );
}

/// Where a duplicate finding's account leads: that applicant's cases.
async function applicantView(uid) {
  render = () => applicantView(uid);
  const r = await api("GET", `/v1/review/applicants/${encodeURIComponent(uid)}/cases`);
  screen(t("applicant.title", { uid }), h("p", {}, h("a", { href: "#/queue", text: t("case.back") })),
    r.ok ? evidence.applicantPage(r.data) : notice("bad", errorText(r)));
}

/// Where a screening match leads: the listed entity's record.
async function entityView(id) {
  render = () => entityView(id);
  const r = await api("GET", `/v1/review/list-entities/${encodeURIComponent(id)}`);
  screen(t("entity.title", { id }), h("p", {}, h("a", { href: "#/queue", text: t("case.back") })),
    r.ok ? evidence.entityPage(r.data) : notice("bad", errorText(r)));
}

function section(key, ...children) {
  const id = `s-${key.replace(/\W/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id, text: t(key) }), ...children);
}

function reasonList(codes) {
  if (!codes.length) return h("p", { class: "muted", text: t("case.none") });
  return h("ul", { class: "reasons" }, codes.map((code) => {
    const r = reasonOf(code);
    return h("li", {}, h("span", { class: "code", text: `${code} · ${r ? tk(`type.${r.reject_type}`) : ""}` }), h("br"), reasonText(code).message);
  }));
}

function docSrc(caseId, d) {
  return d.src || `/v1/review/cases/${encodeURIComponent(caseId)}/documents/${encodeURIComponent(d.id)}/image`;
}

function documents(caseId, docs, seen) {
  if (!docs.length) return h("p", { class: "muted", text: t("case.none") });
  return h("div", { class: "docs" }, docs.map((d) => {
    let zoom = 1;
    let turn = 0;
    const src = docSrc(caseId, d);
    const isImage = (d.content_type || "").startsWith("image/");
    const img = isImage ? h("img", { src, alt: t("case.doc_alt", { kind: d.kind, side: d.side || "" }), loading: "lazy" }) : null;
    // The image and the checks' drawing over it turn and zoom together.
    const side = evidence.sideOf(seen, d);
    const drawing = isImage ? evidence.overlay(side) : null;
    const stage = isImage ? h("div", { class: "stage" }, img, drawing) : null;
    const apply = () => { stage.style.transform = `rotate(${turn}deg) scale(${zoom})`; };
    const show = drawing
      ? h("label", { class: "choice" }, h("input", { type: "checkbox", checked: true, onchange: (e) => { drawing.hidden = !e.target.checked; } }), h("span", { text: t("evidence.show") }))
      : null;
    const tool = (key, fn) => {
      const b = h("button", { type: "button", class: "secondary small", text: t(key) });
      b.addEventListener("click", () => { fn(); apply(); });
      return b;
    };
    return h("figure", { class: "doc", "data-side": d.side || "" },
      isImage
        ? h("div", { class: "viewport" }, stage)
        : h("p", {}, h("a", { href: src, download: "", text: t("case.download") })),
      isImage ? h("div", { class: "tools" },
        tool("case.zoom_in", () => { zoom = Math.min(4, zoom * 1.25); }),
        tool("case.zoom_out", () => { zoom = Math.max(0.5, zoom / 1.25); }),
        tool("case.rotate", () => { turn = (turn + 90) % 360; }),
        tool("case.reset", () => { zoom = 1; turn = 0; }), show) : null,
      h("figcaption", { text: t("case.doc_caption", { kind: d.kind, side: d.side || "—", w: d.width ?? "?", hgt: d.height ?? "?" }) }),
      drawing ? evidence.legend(side) : null,
      evidence.mrz(side));
  }));
}

function findings(list) {
  if (!list?.length) return h("p", { class: "muted", text: t("case.none") });
  return h("ul", { class: "findings" }, list.map((f) => h("li", {},
    h("strong", { text: f.code }), ` · ${f.reject_type ? tk(`type.${f.reject_type}`) : ""}`,
    f.subject ? ` · ${f.subject}` : "",
    f.detail && Object.keys(f.detail).length
      ? h("dl", { class: "detail" }, Object.entries(f.detail).flatMap(([k, v]) => [h("dt", { text: k }), h("dd", {}, evidence.detailValue(k, v))]))
      : null)));
}

/// Entered data as [field, value] pairs, nested field names joined with dots (name.given).
function flatten(data) {
  const rows = [];
  const walk = (prefix, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else {
      rows.push([prefix, Array.isArray(v) ? v.join(", ") : String(v ?? "")]);
    }
  };
  walk("", data || {});
  return rows;
}

function entered(data) {
  if (!data) return h("p", { class: "muted", text: t("case.none") });
  return h("dl", { class: "summary", id: "entered" }, flatten(data).flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
}

function comments(caseId, list, canAct) {
  const items = list.length
    ? h("ul", { class: "comments" }, list.map((c) => h("li", { class: c.visibility },
        h("p", { class: "meta", text: t("case.comment_meta", { who: c.author, at: when(c.at), vis: c.visibility === "applicant" ? t("case.vis_applicant") : t("case.vis_internal") }) }),
        h("p", { class: "body", text: c.body }))))
    : h("p", { class: "muted", text: t("case.none") });
  if (!canAct) return items;
  const vis = select("visibility", [["internal", t("case.vis_internal")], ["applicant", t("case.vis_applicant")]], "internal");
  const body = h("textarea", { rows: "3", maxlength: "4000", required: true });
  return h("div", {}, items, form({ id: "comment" }, [field(t("case.comment_vis"), vis), field(t("case.comment_body"), body)], t("case.comment_add"), async () => {
    if (!body.value.trim()) return t("case.comment_missing");
    const r = await act("POST", `/v1/review/cases/${encodeURIComponent(caseId)}/comments`, { visibility: vis.value, body: body.value });
    if (!r.ok) return errorText(r);
    await render();
  }));
}

function decisionForm(caseId) {
  const picked = new Set();
  const reasonBox = h("fieldset", { class: "reason-picker", id: "reason-picker" }, h("legend", { text: t("decide.reasons") }));
  const preview = h("div", { class: "preview-msg", id: "applicant-preview", "aria-live": "polite" });
  const decisions = [["approve", t("decide.approve")], ["retry", t("decide.retry")], ["reject", t("decide.reject")]];
  let decision = "approve";
  const radios = h("fieldset", { class: "choices" }, h("legend", { text: t("decide.decision") }),
    decisions.map(([d, label]) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "decision", value: d, checked: d === decision, onchange: () => { decision = d; picked.clear(); draw(); } }),
      h("span", { text: label }))));
  const draw = () => {
    reasonBox.hidden = decision === "approve";
    reasonBox.replaceChildren(h("legend", { text: t("decide.reasons") }));
    // A rejection takes FINAL reasons (with others beside them); a retry never a FINAL one.
    const fits = reasons.filter((r) => (decision === "retry" ? r.reject_type !== "FINAL" : true));
    for (const r of fits) {
      reasonBox.append(h("label", { class: "reason" },
        h("input", { type: "checkbox", value: r.code, checked: picked.has(r.code), onchange: (e) => { if (e.target.checked) picked.add(r.code); else picked.delete(r.code); showPreview(); } }),
        h("span", {}, h("code", { text: r.code }), ` · ${tk(`type.${r.reject_type}`)}`)));
    }
    showPreview();
  };
  const showPreview = () => {
    if (decision === "approve" || !picked.size) {
      preview.replaceChildren();
      return;
    }
    preview.replaceChildren(h("p", { class: "muted", text: t("decide.preview") }),
      h("ul", { class: "reasons" }, [...picked].map((code) => {
        const x = reasonText(code);
        return h("li", {}, x.message, x.fix ? h("br") : null, x.fix ? h("span", { class: "fix", text: x.fix }) : null);
      })));
  };
  const toApplicant = h("textarea", { rows: "2", maxlength: "4000" });
  const internal = h("textarea", { rows: "2", maxlength: "4000" });
  draw();
  return form({ id: "decide" }, [radios, reasonBox, preview, field(t("decide.applicant_comment"), toApplicant, t("decide.applicant_hint")), field(t("decide.internal_comment"), internal)], t("decide.submit"), async () => {
    if (decision !== "approve" && !picked.size) return t("decide.need_reason");
    const body = { decision, reasons: [...picked] };
    if (toApplicant.value.trim()) body.applicant_comment = toApplicant.value;
    if (internal.value.trim()) body.internal_comment = internal.value;
    const r = await act("POST", `/v1/review/cases/${encodeURIComponent(caseId)}/decision`, body);
    if (!r.ok) return errorText(r);
    live.textContent = t("decide.done", { status: tk(`status.${r.data.status}`) });
    await render();
  });
}

function audit(events) {
  return h("table", { class: "audit", id: "audit" },
    h("thead", {}, h("tr", {}, ["audit.at", "audit.actor", "audit.action", "audit.change"].map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, events.map((e) => h("tr", {},
      h("td", { text: when(e.at) }), h("td", { text: e.actor }), h("td", { text: e.action }),
      h("td", { text: e.from_status || e.to_status ? `${e.from_status ? tk(`status.${e.from_status}`) : "—"} → ${e.to_status ? tk(`status.${e.to_status}`) : "—"}` : "" })))));
}

// ---- change requests -----------------------------------------------------------------

async function changesView() {
  render = changesView;
  const r = await api("GET", "/v1/review/change-requests");
  const list = r.ok ? r.data.change_requests : [];
  screen(
    t("changes.title"),
    r.ok ? null : notice("bad", errorText(r)),
    list.length ? list.map(changeRequest) : h("p", { class: "empty", text: t("changes.empty") }),
  );
}

function changeRequest(cr) {
  const current = new Map(flatten(cr.current));
  const requested = new Map(flatten(cr.requested));
  const fields = [...new Set([...current.keys(), ...requested.keys()])];
  const table = h("table", { class: "audit compare" },
    h("thead", {}, h("tr", {}, ["changes.field", "changes.current", "changes.requested"].map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, fields.map((f) => {
      const changed = cr.changes.includes(f) || current.get(f) !== requested.get(f);
      return h("tr", { class: changed ? "changed" : null, "data-field": f },
        h("th", { scope: "row", text: f }),
        h("td", { text: current.get(f) ?? "—" }),
        h("td", {}, requested.get(f) ?? "—", changed ? h("span", { class: "tag", text: t("changes.changed") }) : null));
    })));
  const canAct = me.role !== "auditor";
  const firstByMe = cr.first_approved_by && cr.first_approved_by === me.id;
  const comment = h("textarea", { rows: "2", maxlength: "4000" });
  const decide = (decision) => async () => {
    const body = { decision };
    if (comment.value.trim()) body.comment = comment.value;
    const res = await act("POST", `/v1/review/change-requests/${encodeURIComponent(cr.id)}/decision`, body);
    if (!res.ok) return errorText(res);
    live.textContent = t("changes.done");
    await render();
  };
  const out = h("div", { "aria-live": "assertive" });
  const button = (label, decision, cls) => {
    const b = h("button", { type: "button", class: cls, "data-decision": decision, text: label });
    b.addEventListener("click", async () => {
      busy(b, true);
      out.replaceChildren();
      try {
        const err = await decide(decision)();
        if (err) out.replaceChildren(notice("bad", err));
      } catch (e) {
        if (!(e instanceof Stop)) throw e;
      } finally {
        busy(b, false);
      }
    });
    return b;
  };
  const id = `cr-${cr.id.slice(0, 8)}`;
  return h("section", { class: "change", "aria-labelledby": id, "data-change": cr.id },
    h("h2", { id, text: t("changes.item", { id: cr.id.slice(0, 8), at: when(cr.created_at) }) }),
    h("p", {}, h("strong", { text: t("changes.reason") }), " ", cr.reason),
    h("p", { class: "muted", text: cr.second_approval
      ? (cr.first_approved_by ? t("changes.second_needed") : t("changes.two_needed"))
      : t("changes.one_needed") }),
    table,
    cr.reasons.length ? reasonList(cr.reasons) : null,
    cr.documents.length ? documents(null, cr.documents.map((d) => ({ ...d, content_type: "image/jpeg", src: `/v1/review/change-requests/${encodeURIComponent(cr.id)}/documents/${encodeURIComponent(d.id)}/image` }))) : null,
    canAct && !firstByMe
      ? h("div", {}, field(t("changes.comment"), comment), h("div", { class: "actions" }, button(t("changes.approve"), "approve", ""), button(t("changes.reject"), "reject", "secondary")), out)
      : firstByMe ? h("p", { class: "muted", text: t("changes.you_approved") }) : null);
}

// ---- the reviewer's own account --------------------------------------------------------

async function accountView() {
  render = accountView;
  const [list] = await Promise.all([api("GET", "/console/v1/passkeys"), loadMe()]);
  const name = h("input", { type: "text", maxlength: "64", autocomplete: "off", value: t("account.default_name") });
  const out = h("div", { id: "passkey-result" });
  const add = form({ id: "add-passkey" }, [field(t("account.name"), name, t("account.name_hint"))], t("account.add"), async () => {
    const r = await addPasskey(name.value.trim());
    if (r.error) return r.error;
    out.replaceChildren(notice("good", t("account.added", { name: r.data.name })));
    if (r.data.recovery_codes) return recoveryCodes(r.data.recovery_codes);
    await render();
  });
  const keys = list.ok ? list.data.passkeys : [];
  screen(
    t("account.title"),
    h("dl", { class: "summary" },
      h("dt", { text: t("admin.name") }), h("dd", { text: me.name }),
      h("dt", { text: t("admin.role") }), h("dd", { text: tk(`role.${me.role}`) }),
      h("dt", { text: t("account.app") }), h("dd", { text: me.totp ? t("account.on") : t("account.off") }),
      h("dt", { text: t("account.codes") }), h("dd", { text: String(me.recovery_codes_left) })),
    section("account.passkeys",
      keys.length
        ? h("ul", { class: "comments", id: "passkeys" }, keys.map((k) => h("li", {},
            h("p", { class: "body", text: k.name }),
            h("p", { class: "meta", text: t("account.passkey_meta", { at: when(k.created_at), used: k.last_used_at ? when(k.last_used_at) : "—" }) }),
            actionButton(t("account.remove"), "DELETE", `/console/v1/passkeys/${encodeURIComponent(k.id)}`))))
        : h("p", { class: "muted", text: t("case.none") }),
      canPasskey ? add : h("p", { class: "muted", text: t("passkey.unsupported") }),
      out),
  );
}

// ---- administration ------------------------------------------------------------------

async function adminView() {
  render = adminView;
  const [list, log] = await Promise.all([api("GET", "/console/v1/reviewers"), api("GET", "/console/v1/security-events")]);
  const name = h("input", { type: "text", autocomplete: "off", required: true });
  const role = select("role", meta.roles.map((r) => [r, tk(`role.${r}`)]), "reviewer");
  const result = h("div", { id: "invite-result" });
  const invite = form({ id: "invite" }, [field(t("admin.name"), name, t("admin.name_hint")), field(t("admin.role"), role)], t("admin.invite"), async () => {
    const r = await act("POST", "/console/v1/invites", { name: name.value.trim(), role: role.value });
    if (!r.ok) return errorText(r);
    result.replaceChildren(notice("good", t("admin.invited", { name: r.data.name, at: when(r.data.expires_at) })),
      h("p", {}, h("code", { class: "secret", id: "invite-link", text: r.data.url })));
    name.value = "";
  });
  const rows = list.ok ? list.data.reviewers : [];
  screen(
    t("admin.title"),
    section("admin.invite_title", invite, result),
    section("admin.reviewers", h("table", { class: "audit", id: "reviewers" },
      h("thead", {}, h("tr", {}, ["admin.name", "admin.role", "admin.since", "admin.state", "queue.actions"].map((k) => h("th", { scope: "col", text: t(k) })))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", { text: r.name }), h("td", { text: tk(`role.${r.role}`) }), h("td", { text: when(r.created_at) }),
        h("td", { text: r.disabled_at ? t("admin.disabled") : t("admin.active") }),
        h("td", {}, !r.disabled_at && r.id !== me.id ? actionButton(t("admin.disable"), "DELETE", `/console/v1/reviewers/${encodeURIComponent(r.id)}`) : null)))))),
    section("admin.log", h("table", { class: "audit", id: "security-log" },
      h("thead", {}, h("tr", {}, ["audit.at", "admin.event", "admin.account", "admin.address", "admin.detail"].map((k) => h("th", { scope: "col", text: t(k) })))),
      h("tbody", {}, (log.ok ? log.data.events : []).map((e) => h("tr", {},
        h("td", { text: when(e.at) }), h("td", { text: e.kind }), h("td", { text: e.account }), h("td", { text: e.address }), h("td", { text: e.detail })))))),
  );
}

// ---- start ---------------------------------------------------------------------------

document.getElementById("lang").addEventListener("change", async (e) => {
  lang = e.target.value;
  await loadText();
  showNav();
  try {
    await render();
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
});

{
  const m = location.hash.match(/[#&]invite=(idi_[0-9a-f]{64})/);
  if (m) {
    inviteToken = m[1];
    // The invitation leaves the address bar: not in history, screenshots or a shared screen.
    history.replaceState(null, "", location.pathname + location.search);
  }
}

await loadText();
try {
  if (inviteToken) {
    await inviteView(inviteToken);
  } else {
    await loadMe();
    if (!me) signIn();
    else await afterStage(me.stage);
  }
} catch (e) {
  if (!(e instanceof Stop)) throw e;
}
