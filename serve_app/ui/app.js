// The portal's reference web UI: sign-in with an API key, the project picker, and the router between the job
// list, the brief form and a job's page. Served at /ui by the portal; plain ES modules, no build step.

import { ApiError, describe, getJson, postJson, session } from "./api.js";
import { buildForm, clearErrors, showProblem, writeForm } from "./brief.js";
import { fill, focusHeading, h } from "./dom.js";
import { showJob } from "./job.js";
import { showJobs } from "./jobs.js";

const $ = (id) => document.getElementById(id);
const views = ["login-view", "jobs-view", "new-view", "job-view"];
let me = null; // GET /v1/me of the signed-in caller
let current = null; // the shown view's { heading, dispose }

function membership() {
  return (me && me.projects.find((p) => p.project === session.project)) || null;
}

/** Whether the caller may submit briefs in the chosen project (`jobs:write`). */
function canWrite() {
  const m = membership();
  return Boolean(m && m.permissions.includes("jobs:write"));
}

function show(view) {
  for (const id of views) $(id).hidden = id !== view;
}

function leave() {
  if (current && current.dispose) current.dispose();
  current = null;
}

function renderSession() {
  const signedIn = Boolean(me);
  $("session").hidden = !signedIn;
  $("main-nav").hidden = !signedIn;
  if (!signedIn) return;
  const m = membership();
  $("caller-id").textContent = me.id;
  $("caller-role").textContent = m ? `${m.role} in ${m.project}` : "no role in this project";
  if (me.deployment_admin) $("caller-role").textContent += ", deployment admin";
  const picker = $("project-picker");
  const select = $("project-select");
  picker.hidden = me.projects.length < 2;
  fill(select, me.projects.map((p) => h("option", { value: p.project, selected: p.project === session.project },
    `${p.project} (${p.role})`)));
  const links = [h("li", {}, h("a", { href: "#/jobs", id: "nav-jobs" }, "Jobs"))];
  if (canWrite()) links.push(h("li", {}, h("a", { href: "#/new", id: "nav-new" }, "New brief")));
  fill($("nav-list"), links);
  const here = location.hash.startsWith("#/new") ? "nav-new" : "nav-jobs";
  for (const link of $("nav-list").querySelectorAll("a")) {
    if (link.id === here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function showLogin(message) {
  leave();
  me = null;
  renderSession();
  show("login-view");
  const error = $("login-error");
  error.textContent = message || "";
  error.hidden = !message;
  $("api-key").focus();
}

/** Ask the portal who the key belongs to; choose the remembered project, or the first. */
async function signIn() {
  me = await getJson("/v1/me");
  const names = me.projects.map((p) => p.project);
  if (!names.includes(session.project)) session.project = names[0] || null;
}

function showNewBrief() {
  show("new-view");
  const root = $("new-view");
  const heading = h("h2", { id: "new-heading", tabindex: "-1" }, "New brief");
  if (!canWrite()) {
    fill(root, heading, h("p", { class: "notice" },
      `Your role in ${session.project} may read jobs but not submit briefs.`));
    return { heading };
  }
  const controller = new AbortController();
  const status = h("p", { class: "status", id: "brief-status", role: "status" });
  const form = buildForm({
    onExample: async () => {
      status.textContent = "Loading the example brief…";
      try {
        const example = await getJson("/v1/briefs/example", { signal: controller.signal });
        delete example.project; // the job goes to the caller's project
        writeForm(form, example);
        clearErrors(form);
        status.textContent = "The example brief is in the form.";
      } catch (error) {
        status.textContent = `Could not load the example brief: ${describe(error)}`;
      }
    },
    onSubmit: async (brief) => {
      const button = form.querySelector("#brief-submit");
      button.disabled = true;
      status.textContent = "Submitting…";
      try {
        const created = await postJson("/v1/jobs", { brief }, { signal: controller.signal });
        status.textContent = `Job ${created.job_id} started.`;
        location.hash = `#/jobs/${encodeURIComponent(created.job_id)}`;
      } catch (error) {
        status.textContent = "";
        showProblem(form, error instanceof ApiError ? error.problem : { detail: describe(error) });
      } finally {
        button.disabled = false;
      }
    },
  });
  fill(root, heading,
    h("p", { class: "muted" }, `The job runs in project ${session.project}. Fields marked required must be filled in.`),
    status, form);
  return { heading, dispose: () => controller.abort() };
}

/** Show the view the location's hash names: #/jobs, #/new or #/jobs/{id}. */
function route() {
  if (!me) return;
  leave();
  renderSession();
  const hash = location.hash || "#/jobs";
  const job = /^#\/jobs\/(.+)$/.exec(hash);
  let jobId = null;
  try {
    jobId = job ? decodeURIComponent(job[1]) : null;
  } catch {
    jobId = job[1]; // not percent-encoded text: asked for as it is, and the portal answers "not found"
  }
  if (job) {
    show("job-view");
    current = showJob($("job-view"), jobId);
  } else if (hash === "#/new") {
    current = showNewBrief();
  } else {
    show("jobs-view");
    current = showJobs($("jobs-view"), { project: session.project, canWrite: canWrite() });
  }
  focusHeading(current.heading); // a screen reader hears where it landed
}

async function boot() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("api-key");
    const key = input.value.trim();
    if (!key) {
      showLogin("Enter an API key.");
      return;
    }
    const button = $("sign-in");
    button.disabled = true;
    session.key = key;
    try {
      await signIn();
      input.value = "";
      $("login-error").hidden = true;
      if (location.hash && location.hash !== "#/") route();
      else location.hash = "#/jobs";
    } catch (error) {
      session.clear();
      showLogin(describe(error));
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", () => {
    session.clear();
    history.replaceState(null, "", location.pathname);
    showLogin("");
  });
  $("project-select").addEventListener("change", (event) => {
    session.project = event.target.value;
    if (location.hash === "#/jobs") route();
    else location.hash = "#/jobs";
  });
  window.addEventListener("hashchange", route);
  if (!session.key) {
    showLogin("");
    return;
  }
  try {
    await signIn();
    route();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) session.clear();
    showLogin(describe(error));
  }
}

boot();
