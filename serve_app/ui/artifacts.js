// A finished job's deliverables: the list (GET /v1/jobs/{id}/artifacts), downloads, and previews of the PDF (in a
// frame) and the Markdown (as text). Every file is fetched with the session's key and handed on as a Blob.

import { describe, getJson, request } from "./api.js";
import { fill, h, size, table } from "./dom.js";

/**
 * Fill `section` with the job's deliverables. Object URLs made for blobs are added to `urls` (the caller revokes
 * them when the view is left); `signal` aborts the fetches.
 */
export async function showArtifacts(section, jobId, { signal, urls }) {
  const heading = () => h("h3", { id: "artifacts-heading" }, "Deliverables");
  section.hidden = false;
  fill(section, heading(), h("p", { class: "status" }, "Loading…"));
  let artifacts;
  try {
    artifacts = await getJson(`/v1/jobs/${encodeURIComponent(jobId)}/artifacts`, { signal });
  } catch (error) {
    if (!signal.aborted) {
      fill(section, heading(), h("p", { class: "error" }, `Could not list the deliverables: ${describe(error)}`));
    }
    return;
  }
  const status = h("p", { class: "status", id: "artifact-status", role: "status" });
  const preview = h("div", { id: "preview", class: "preview", hidden: true });
  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };

  async function fetchBlob(artifact) {
    const response = await request(artifact.href || `/v1/artifacts/${encodeURIComponent(artifact.id)}`, { signal });
    const name = filename(response.headers.get("content-disposition")) || `${artifact.kind}-${artifact.id}`;
    return { blob: await response.blob(), name };
  }

  function objectUrl(blob) {
    const url = URL.createObjectURL(blob);
    urls.add(url);
    return url;
  }

  function revoke(url) {
    if (url && urls.delete(url)) URL.revokeObjectURL(url);
  }

  let previewUrl = null; // the open PDF's blob: replaced (and let go) when another preview opens
  function showPreview(url, ...children) {
    revoke(previewUrl);
    previewUrl = url;
    fill(preview, ...children);
  }

  async function download(artifact) {
    say(`Downloading the ${artifact.kind}…`);
    try {
      const { blob, name } = await fetchBlob(artifact);
      const link = h("a", { href: objectUrl(blob), download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => revoke(link.href), 60000); // the browser has the bytes by then
      say(`Downloaded ${name} (${size(blob.size)}).`);
    } catch (error) {
      say(`Could not download the ${artifact.kind}: ${describe(error)}`, true);
    }
  }

  async function openPdf(artifact) {
    say("Opening the PDF…");
    try {
      const { blob, name } = await fetchBlob(artifact);
      const url = objectUrl(new Blob([blob], { type: "application/pdf" }));
      showPreview(url, h("h4", {}, `PDF: ${name}`),
        h("p", {}, h("a", { href: url, target: "_blank", rel: "noopener", id: "pdf-new-tab" },
          "Open the PDF in a new tab")),
        h("iframe", { src: url, title: `PDF report ${name}`, id: "pdf-frame", class: "pdf-frame" }));
      preview.hidden = false;
      say(`Opened ${name}.`);
    } catch (error) {
      say(`Could not open the PDF: ${describe(error)}`, true);
    }
  }

  async function openMarkdown(artifact) {
    say("Opening the Markdown…");
    try {
      const { blob, name } = await fetchBlob(artifact);
      const text = await blob.text(); // shown as text: a report is never parsed as HTML here
      showPreview(null, h("h4", {}, `Markdown: ${name}`),
        h("pre", { id: "markdown-text", class: "markdown", tabindex: "0", "aria-label": `Markdown text of ${name}` },
          text));
      preview.hidden = false;
      say(`Opened ${name}.`);
    } catch (error) {
      say(`Could not open the Markdown: ${describe(error)}`, true);
    }
  }

  const button = (label, action, hidden = "") => h("button", { type: "button", class: "small", onclick: action },
    label, hidden ? h("span", { class: "visually-hidden" }, ` ${hidden}`) : null);
  const rows = artifacts.map((a) => {
    const gone = Boolean(a.status) && a.status !== "stored";
    const actions = gone ? [a.status] : [
      button("Download", () => download(a), [a.kind, a.locale].filter(Boolean).join(" ")),
      a.kind === "pdf" ? button("Open PDF", () => openPdf(a)) : null,
      a.kind === "markdown" ? button("Open Markdown", () => openMarkdown(a)) : null,
    ];
    return [a.kind, a.locale || "—", size(a.size),
      h("span", { class: "mono small", title: a.sha256 }, (a.sha256 || "").slice(0, 12)),
      h("div", { class: "row-actions" }, actions)];
  });
  fill(section, heading(),
    table({ caption: "Files this job produced", columns: ["Kind", "Locale", "Size", "SHA-256", "Actions"], rows,
      empty: "This job stored no deliverables." }),
    status, preview);
}

function filename(disposition) {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || "");
  return match ? decodeURIComponent(match[1]) : null;
}
