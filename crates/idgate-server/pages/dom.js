// What both of idgate's pages (the applicant's flow and the reviewer console) build their
// screens with. Values are set as text or attributes, never parsed as HTML.

/// `s` with each `{name}` replaced by `vars.name` (left as is when absent).
export function fill(s, vars) {
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars && k in vars ? String(vars[k]) : `{${k}}`));
}

/// An element: `attrs.text` is its text, `on…` attributes are listeners, `true` an empty
/// attribute, `false`/`null`/`undefined` none; children are nodes or text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/// A message box: `bad` ones are alerts, the others status messages.
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "bad" ? "alert" : "status", text });
}

/// A button while its action runs: disabled and marked busy.
export function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}
