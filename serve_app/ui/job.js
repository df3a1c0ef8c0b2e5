// One job's page: state, steps and providers, live progress over server-sent events (each event refreshes the
// job), then its deliverables and where the providers disagreed.

import { describe, getJson, request } from "./api.js";
import { showArtifacts } from "./artifacts.js";
import { badge, fill, h, size, table, when } from "./dom.js";
import { TERMINAL } from "./jobs.js";
import { showDisagreements } from "./merge.js";
import { follow } from "./sse.js";

const STREAM_STATUS = {
  connecting: () => "Connecting to the event stream…",
  open: () => "Live: receiving events.",
  reconnecting: (after) => `Reconnecting after event ${after}…`,
  waiting: (why) => (why === "timeout" ? "The stream timed out; reconnecting shortly."
    : "The stream ended; reconnecting shortly."),
  finished: () => "The job has finished; the stream is closed.",
  closed: () => "The portal closed the stream: the credential is no longer valid.",
  failed: (error) => `The event stream failed: ${error ? describe(error) : "unknown error"}`,
};

/** What a progress-log line says about one event. */
export function describeEvent(type, data) {
  const p = (data && data.payload) || {};
  switch (type) {
    case "job.submitted":
      return "Job submitted";
    case "job.state_changed":
      return `State ${p.from_state || "?"} → ${p.to_state}${p.reason ? ` (${p.reason})` : ""}`;
    case "step.recorded":
      return `Step ${p.step} (attempt ${p.attempt}): ${p.outcome}${p.error_code ? `, ${p.error_code}` : ""}`;
    case "artifact.stored":
      return `Stored ${p.kind} (${size(p.size)})`;
    case "stream.timeout":
      return "The stream timed out; reconnecting";
    case "stream.closed":
      return `The stream was closed: ${(data && data.reason) || "no reason given"}`;
    default:
      return type;
  }
}

function fact(term, value, id) {
  return h("div", { class: "fact" }, h("dt", {}, term), h("dd", { id }, value));
}

/** Render job `jobId` into `root` (the #job-view section); returns { heading, dispose }. */
export function showJob(root, jobId) {
  const controller = new AbortController();
  const signal = controller.signal;
  const urls = new Set(); // object URLs of opened and downloaded files, revoked when the view is left
  const path = `/v1/jobs/${encodeURIComponent(jobId)}`;
  const heading = h("h2", { id: "job-heading", tabindex: "-1" }, "Job");
  const facts = h("dl", { class: "facts", id: "job-facts" });
  const problem = h("div", { class: "problem", id: "job-problem", role: "alert", hidden: true });
  const streamStatus = h("p", { class: "status", id: "stream-status", role: "status" }, STREAM_STATUS.connecting());
  const log = h("ol", { id: "progress-log", class: "log" });
  const logBox = h("div", { class: "log-wrap", role: "log", "aria-live": "polite",
    "aria-labelledby": "progress-heading", tabindex: "0" }, log);
  const steps = h("div", { id: "job-steps" });
  const providers = h("div", { id: "job-providers" });
  const card = (id, title, ...body) => h("section", { class: "card", "aria-labelledby": `${id}-heading` },
    h("h3", { id: `${id}-heading` }, title), ...body);
  const deliverables = h("section", { id: "artifacts", class: "card", "aria-labelledby": "artifacts-heading",
    hidden: true });
  const disagreements = h("section", { id: "disagreements", class: "card", "aria-labelledby": "disagreements-heading",
    hidden: true });
  let job = null;
  let terminalSeen = false;
  let finishedShown = false;

  fill(root,
    h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")),
    heading, h("p", { class: "muted mono", id: "job-id" }, jobId), problem,
    h("div", { class: "grid" },
      card("summary", "Summary", facts),
      card("progress", "Live progress", streamStatus, logBox)),
    card("steps", "Steps", steps),
    card("providers", "Providers", providers),
    deliverables, disagreements);

  function render(current) {
    const brief = current.brief || {};
    heading.textContent = brief.title || (brief.product && brief.product.name) || "Job";
    const quorum = current.quorum;
    fill(facts,
      fact("State", badge(current.state), "job-state"),
      fact("Degraded", current.degraded ? "yes" : "no"),
      fact("Project", current.project || "—"),
      fact("Quorum", quorum ? `${(quorum.received || []).length} answered, ${quorum.required} required` : "—"),
      fact("Created", when(current.created_at)),
      fact("Updated", when(current.updated_at)),
      current.warnings && current.warnings.length
        ? fact("Warnings", h("ul", {}, current.warnings.map((w) => h("li", {}, w)))) : null);
    if (current.error) {
      fill(problem, h("strong", {}, "The job failed: "), current.error.message || current.error.code || "unknown");
      problem.hidden = false;
    }
    fill(steps, table({
      caption: "Pipeline steps and their attempts", columns: ["Step", "Attempt", "Outcome", "Started", "Finished"],
      empty: "No step has started yet.",
      rows: (current.steps || []).map((s) => [s.step, String(s.attempt), s.outcome, when(s.started_at),
        when(s.finished_at)]),
    }));
    fill(providers, table({
      caption: "What each language-model provider answered",
      columns: ["Provider", "Status", "Model", "Latency", "Claims"],
      empty: "No provider has answered yet.", rowHeaders: true,
      rows: Object.entries(current.providers || {}).map(([name, p]) => [name,
        p.reason ? `${p.status} (${p.reason})` : p.status, p.model || "—",
        typeof p.latency_s === "number" ? `${p.latency_s.toFixed(2)} s` : "—", String(p.claims ?? 0)]),
    }));
    if (TERMINAL.has(current.state) && !finishedShown) {
      finishedShown = true;
      const answered = Object.entries(current.providers || {}).filter(([, p]) => p.status === "ok").map(([n]) => n);
      showArtifacts(deliverables, jobId, { signal, urls });
      showDisagreements(disagreements, jobId, { signal, answered });
    }
  }

  // One GET at a time: events come in bursts, each asks for a refresh, and one asked for while a GET runs makes
  // that GET run once more when it is done.
  let running = null;
  let again = false;
  function refresh() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        job = await getJson(path, { signal });
        render(job);
      } while (again && !signal.aborted);
      return job;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  function logEvent(event) {
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      data = null; // a stream notice without JSON
    }
    if (event.type === "job.state_changed" && TERMINAL.has(data && data.payload && data.payload.to_state)) {
      terminalSeen = true;
    }
    const at = data && data.occurred_at;
    log.append(h("li", { dataset: { type: event.type, id: event.type.startsWith("stream.") ? "" : event.id } },
      at ? h("time", { datetime: at }, new Date(at).toLocaleTimeString()) : null, " ",
      describeEvent(event.type, data)));
    logBox.scrollTop = logBox.scrollHeight;
  }

  function streamSaid(status, detail) {
    streamStatus.textContent = STREAM_STATUS[status] ? STREAM_STATUS[status](detail) : status;
    streamStatus.classList.toggle("error", status === "failed" || status === "closed");
    streamStatus.dataset.status = status;
  }

  (async () => {
    try {
      await refresh();
    } catch (error) {
      if (signal.aborted) return;
      fill(problem, describe(error));
      problem.hidden = false;
      streamSaid("failed", error);
      return;
    }
    await follow({
      signal,
      open: (lastEventId, abort) => request(`${path}/events`, {
        signal: abort,
        headers: { Accept: "text/event-stream", ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
      }),
      onEvent: (event) => {
        logEvent(event);
        if (!event.type.startsWith("stream.")) refresh().catch(() => {});
      },
      onStatus: streamSaid,
      finished: async () => {
        try {
          return terminalSeen || TERMINAL.has((await refresh()).state);
        } catch {
          return terminalSeen;
        }
      },
    });
  })();

  return {
    heading,
    dispose() {
      controller.abort();
      for (const url of urls) URL.revokeObjectURL(url);
    },
  };
}
