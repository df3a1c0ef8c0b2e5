// The job list: GET /v1/jobs filtered by state, a page at a time ("Load more" follows next_cursor).

import { describe, getJson } from "./api.js";
import { badge, fill, h, when } from "./dom.js";

/** Every job state, in pipeline order; the last three are terminal. */
export const STATES = ["submitted", "validating", "redacting", "collecting", "analyzing", "merging", "localizing",
  "rendering", "exporting", "completed", "failed", "cancelled"];
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const PAGE = 20;

/** Render the job list into `root` (the #jobs-view section). Returns a dispose() for when the view is left. */
export function showJobs(root, { project, canWrite }) {
  const controller = new AbortController();
  const filter = h("select", { id: "state-filter", name: "state" },
    h("option", { value: "" }, "All states"), STATES.map((s) => h("option", { value: s }, s)));
  const rows = h("tbody");
  const status = h("p", { class: "status", id: "jobs-status", role: "status" });
  const more = h("button", { type: "button", id: "load-more", hidden: true }, "Load more");
  const heading = h("h2", { id: "jobs-heading", tabindex: "-1" }, "Jobs");
  let cursor = null;
  let generation = 0; // a page that arrives after the filter changed again is dropped

  async function load(append) {
    const mine = append ? generation : ++generation;
    status.textContent = "Loading jobs…";
    status.classList.remove("error");
    more.disabled = true;
    try {
      const query = { state: filter.value, limit: PAGE, cursor: append ? cursor : null };
      const page = await getJson("/v1/jobs", { query, signal: controller.signal });
      if (mine !== generation) return;
      if (!append) rows.replaceChildren();
      rows.querySelector("td.empty")?.closest("tr").remove();
      for (const job of page.items || []) rows.append(row(job));
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      const count = rows.querySelectorAll("tr[data-job-id]").length;
      if (count === 0) rows.append(h("tr", {}, h("td", { colspan: 5, class: "empty" },
        filter.value ? `No ${filter.value} jobs.` : "No jobs yet.")));
      status.textContent = `${count} job${count === 1 ? "" : "s"} shown${cursor ? "; more are available" : ""}.`;
    } catch (error) {
      if (controller.signal.aborted) return;
      status.textContent = `Could not load the jobs: ${describe(error)}`;
      status.classList.add("error");
    } finally {
      more.disabled = false;
    }
  }

  filter.addEventListener("change", () => load(false));
  more.addEventListener("click", () => load(true));
  fill(root,
    h("div", { class: "view-head" }, heading,
      canWrite ? h("a", { class: "button-link primary", href: "#/new" }, "New brief") : null),
    h("p", { class: "muted" }, `Research jobs of project ${project}.`),
    h("div", { class: "toolbar" },
      h("label", { for: "state-filter" }, "State"), filter,
      h("button", { type: "button", id: "refresh-jobs", onclick: () => load(false) }, "Refresh")),
    status,
    h("div", { class: "table-wrap" }, h("table", { id: "jobs-table" },
      h("caption", { class: "visually-hidden" }, `Jobs of project ${project}`),
      h("thead", {}, h("tr", {},
        ["Title", "State", "Degraded", "Created", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
      rows)),
    h("div", { class: "actions" }, more));
  load(false);
  return { heading, dispose: () => controller.abort() };
}

function row(job) {
  return h("tr", { dataset: { jobId: job.job_id } },
    h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.job_id)}` }, job.title || job.job_id),
      job.title ? h("div", { class: "muted small mono" }, job.job_id) : null),
    h("td", {}, badge(job.state)),
    h("td", {}, job.degraded ? "yes" : "no"),
    h("td", {}, when(job.created_at)),
    h("td", {}, when(job.updated_at)));
}
