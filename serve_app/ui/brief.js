// The brief form: its fields as data, the form built from them, brief ⇄ form, and the API's field errors shown
// beside the fields they name.

import { h, fill } from "./dom.js";

/** The form's fields; `name` is the brief path a 422 error names (its first segment; product.name, .description). */
export const FIELDS = [
  { name: "title", id: "brief-title", label: "Title", kind: "text",
    hint: "A name for this research, shown in the job list." },
  { name: "product.name", id: "brief-product-name", label: "Product name", kind: "text", required: true },
  { name: "product.description", id: "brief-product-description", label: "Product description", kind: "textarea",
    rows: 3 },
  { name: "markets", id: "brief-markets", label: "Markets", kind: "text", required: true,
    hint: "ISO country codes, comma-separated, e.g. DE, FR." },
  { name: "locale", id: "brief-locale", label: "Locale", kind: "text", required: true,
    hint: "The report's language and region, e.g. en_GB or de_DE." },
  { name: "audience", id: "brief-audience", label: "Audience", kind: "textarea", rows: 2, required: true },
  { name: "questions", id: "brief-questions", label: "Questions", kind: "textarea", rows: 4, required: true,
    hint: "One question per line." },
  { name: "competitors", id: "brief-competitors", label: "Competitors", kind: "text", wide: true,
    hint: "Brands to compare with, comma-separated." },
  { name: "outputs", id: "brief-outputs", label: "Outputs", kind: "checkboxes", options: ["pdf", "html", "markdown"],
    hint: "The exports to produce." },
];

const byName = new Map(FIELDS.map((f) => [f.name, f]));
const FORM_KEYS = new Set(["project", "title", "product", "markets", "audience", "questions", "locale", "competitors",
  "outputs"]);
const extrasOf = new WeakMap(); // form → the loaded brief's fields the form does not show, sent along unchanged

/** The form field an API error path belongs to ("questions.0.text" → questions), or null. */
export function fieldFor(path) {
  const parts = String(path || "").split(".");
  if (parts[0] === "brief" && parts.length > 1) parts.shift(); // a path into the request body
  if (parts[0] === "product") { // "product" itself (missing) or one of its shown fields; the rest go above the form
    if (parts.length === 1 || parts[1] === "name") return byName.get("product.name");
    return parts[1] === "description" ? byName.get("product.description") : null;
  }
  return byName.get(parts[0]) || null;
}

function hintId(field) {
  return `${field.id}-hint`;
}

function errorId(field) {
  return `${field.id}-error`;
}

function control(field) {
  const described = field.hint ? hintId(field) : null;
  if (field.kind === "checkboxes") {
    return h("fieldset", { class: "field checkboxes", id: field.id, "aria-describedby": described },
      h("legend", {}, field.label),
      field.hint ? h("p", { class: "hint", id: hintId(field) }, field.hint) : null,
      h("div", { class: "options" }, field.options.map((option) => h("label", { class: "option" },
        h("input", { type: "checkbox", name: field.name, value: option, checked: true, "aria-describedby": described }),
        ` ${option}`))),
      h("p", { class: "field-error", id: errorId(field), hidden: true }));
  }
  const input = field.kind === "textarea"
    ? h("textarea", { id: field.id, name: field.name, rows: field.rows || 3, required: field.required,
      "aria-describedby": described })
    : h("input", { id: field.id, name: field.name, type: "text", required: field.required, autocomplete: "off",
      spellcheck: field.name === "markets" || field.name === "locale" ? "false" : null,
      "aria-describedby": described });
  return h("div", { class: field.wide || field.kind === "textarea" ? "field wide" : "field" },
    h("label", { for: field.id }, field.label, field.required ? h("span", { class: "required" }, " (required)") : null),
    field.hint ? h("p", { class: "hint", id: hintId(field) }, field.hint) : null,
    input,
    h("p", { class: "field-error", id: errorId(field), hidden: true }));
}

/** The brief form (only built for callers who may submit). `onExample` and `onSubmit` are its two actions. */
export function buildForm({ onExample, onSubmit }) {
  const general = h("div", { class: "form-errors", id: "brief-errors", role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "brief-submit" }, "Submit brief");
  const form = h("form", { id: "brief-form", class: "brief-form", novalidate: true,
    "aria-describedby": "brief-errors" },
    general,
    FIELDS.map(control),
    h("p", { class: "hint wide", id: "brief-extras" }),
    h("div", { class: "actions" },
      submit,
      h("button", { type: "button", id: "load-example", onclick: onExample }, "Load example brief")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit(readForm(form));
  });
  return form;
}

const list = (text, separator) => text.split(separator).map((s) => s.trim()).filter(Boolean);

/** The brief the form describes (the server fills in the project from the caller's credential). */
export function readForm(form) {
  const value = (name) => form.elements.namedItem(name).value;
  const brief = {
    title: value("title").trim(),
    product: { name: value("product.name").trim() },
    markets: list(value("markets"), ","),
    audience: value("audience").trim(),
    questions: list(value("questions"), /\r?\n/),
    locale: value("locale").trim(),
    competitors: list(value("competitors"), ","),
  };
  const outputs = [...form.querySelectorAll('input[name="outputs"]:checked')].map((box) => box.value);
  if (outputs.length) brief.outputs = outputs; // none ticked: the portal's default exports
  const description = value("product.description").trim();
  if (description) brief.product.description = description;
  const extras = extrasOf.get(form) || { top: {}, product: {} };
  return { ...extras.top, ...brief, product: { ...extras.product, ...brief.product } };
}

/** Fill the form from a brief (the example's `project` is not a form field: the caller's project is used). */
export function writeForm(form, brief) {
  const set = (name, text) => { form.elements.namedItem(name).value = text ?? ""; };
  const product = brief.product || {};
  set("title", brief.title);
  set("product.name", product.name);
  set("product.description", product.description);
  set("markets", (brief.markets || []).join(", "));
  set("audience", brief.audience);
  set("questions", (brief.questions || []).map((q) => (typeof q === "string" ? q : q.text)).join("\n"));
  set("locale", brief.locale);
  set("competitors", (brief.competitors || []).join(", "));
  const outputs = new Set(brief.outputs || []);
  for (const box of form.querySelectorAll('input[name="outputs"]')) box.checked = outputs.has(box.value);
  const top = Object.fromEntries(Object.entries(brief).filter(([key]) => !FORM_KEYS.has(key)));
  const kept = Object.fromEntries(Object.entries(product).filter(([key]) => key !== "name" && key !== "description"));
  extrasOf.set(form, { top, product: kept });
  const names = [...Object.keys(top), ...Object.keys(kept).map((key) => `product.${key}`)];
  fill(form.querySelector("#brief-extras"), names.length
    ? `Also sent as loaded (not editable here): ${names.join(", ")}.` : "");
}

function targets(form, field) {
  return field.kind === "checkboxes"
    ? [...form.querySelectorAll(`input[name="${field.name}"]`)]
    : [form.elements.namedItem(field.name)];
}

/** Remove every error mark. */
export function clearErrors(form) {
  for (const field of FIELDS) {
    for (const el of targets(form, field)) {
      el.removeAttribute("aria-invalid");
      if (field.hint) el.setAttribute("aria-describedby", hintId(field));
      else el.removeAttribute("aria-describedby");
    }
    const shown = form.querySelector(`#${errorId(field)}`);
    fill(shown);
    shown.hidden = true;
  }
  const general = form.querySelector("#brief-errors");
  fill(general);
  general.hidden = true;
}

/**
 * Show a problem on the form: each `errors[i].message` beside the field its `field` path names (aria-invalid,
 * aria-describedby), the rest and the problem's detail in the general area. Focus moves to the first bad field.
 */
export function showProblem(form, problem) {
  clearErrors(form);
  const perField = new Map();
  const unmatched = [];
  for (const error of problem.errors || []) {
    const field = fieldFor(error.field);
    if (field) perField.set(field, [...(perField.get(field) || []), error.message]);
    else unmatched.push(error.field ? `${error.field}: ${error.message}` : error.message);
  }
  let first = null;
  for (const field of FIELDS) {
    const messages = perField.get(field);
    if (!messages) continue;
    const shown = form.querySelector(`#${errorId(field)}`);
    fill(shown, messages.length === 1 ? messages[0] : h("ul", {}, messages.map((m) => h("li", {}, m))));
    shown.hidden = false;
    for (const el of targets(form, field)) {
      el.setAttribute("aria-invalid", "true");
      const ids = [field.hint ? hintId(field) : null, errorId(field)];
      el.setAttribute("aria-describedby", ids.filter(Boolean).join(" "));
      first = first || el;
    }
  }
  const general = form.querySelector("#brief-errors");
  const count = (problem.errors || []).length;
  const summary = count ? `The brief was not accepted: ${count === 1 ? "one problem" : `${count} problems`}.`
    : problem.detail || problem.title || "The brief was not accepted.";
  fill(general, h("p", { class: "summary" }, summary),
    unmatched.length ? h("ul", {}, unmatched.map((m) => h("li", {}, m))) : null);
  general.hidden = false;
  (first || general).focus?.();
}
