// DOM helpers for the portal UI: build elements from data (never from HTML strings), format values.

/**
 * Create an element: `h("a", {href: "#/jobs", class: "nav"}, "Jobs")`.
 * Props: `class`, `text`, `dataset`, `on<event>` handlers; `true` sets a boolean attribute, null/false skip it.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A `<time>` for an ISO timestamp, shown in the reader's locale ("—" when missing). */
export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return h("time", { datetime: iso }, date.toLocaleString());
}

/** Bytes in a short human form: 1.2 MB. */
export function size(bytes) {
  if (typeof bytes !== "number") return "—";
  const units = ["B", "KB", "MB", "GB"];
  let n = bytes;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`;
}

/** A state badge: the state's name with a class per state for its colour. */
export function badge(state) {
  return h("span", { class: `badge state-${String(state).replace(/[^a-z_]/g, "")}` }, String(state));
}

/** A table with a caption, column headers (`<th scope="col">`) and rows of cells; a `<th scope="row">` leads a
 * row when `rowHeaders` is set. Cells are nodes or text. */
export function table({ caption, columns, rows, rowHeaders = false, empty = "Nothing yet.", className = "", id }) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c))));
  const body = h("tbody");
  if (rows.length === 0) {
    body.append(h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty)));
  }
  const cell = (value, i) => (rowHeaders && i === 0 ? h("th", { scope: "row" }, value) : h("td", {}, value));
  for (const row of rows) body.append(h("tr", {}, row.map(cell)));
  return h("div", { class: "table-wrap" },
    h("table", { class: className || null, id }, h("caption", {}, caption), head, body));
}

/** Move focus to a heading or region without scrolling past it (for screen-reader users after a view change). */
export function focusHeading(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: false });
}
