// Where the providers disagreed (GET /v1/jobs/{id}/merge): one row per topic, one column per provider.

import { ApiError, describe, getJson } from "./api.js";
import { fill, h, table } from "./dom.js";

/**
 * Fill `section` with the disagreement table. The columns are the providers that took a position; with no
 * disagreement at all they are `answered` (the providers whose answers were merged). A 404 means no merge yet.
 */
export async function showDisagreements(section, jobId, { signal, answered = [] }) {
  const heading = h("h3", { id: "disagreements-heading" }, "Disagreements");
  section.hidden = false;
  fill(section, heading, h("p", { class: "status" }, "Loading…"));
  let merge;
  try {
    merge = await getJson(`/v1/jobs/${encodeURIComponent(jobId)}/merge`, { signal });
  } catch (error) {
    if (signal.aborted) return;
    const missing = error instanceof ApiError && error.status === 404;
    fill(section, heading, h("p", { class: missing ? "muted" : "error", id: "merge-status" },
      missing ? "No merge result yet." : `Could not load the merge result: ${describe(error)}`));
    return;
  }
  const items = merge.disagreements || [];
  const named = new Set(items.flatMap((d) => Object.keys(d.positions || {})));
  const providers = [...(named.size ? named : new Set(answered))].sort();
  const claims = (merge.claims || []).length;
  fill(section, heading,
    h("p", { class: "muted" },
      `${claims} merged claim${claims === 1 ? "" : "s"}; `,
      `${items.length} topic${items.length === 1 ? "" : "s"} where the providers disagree.`),
    table({
      caption: "Where the providers disagree, by topic", columns: ["Topic", ...providers], rowHeaders: true,
      className: "disagreements", id: "disagreement-table", empty: "The providers did not disagree on any topic.",
      rows: items.map((d) => [d.topic, ...providers.map((p) => (d.positions || {})[p] || "—")]),
    }));
}
