// The portal API over fetch(): the session's API key and project on every request; errors as RFC 9457 problems.

const KEY = "mka.apiKey";
const PROJECT = "mka.project";

/** An API answer that was not 2xx: `status` and the problem body (`type, title, status, detail, code, errors?`). */
export class ApiError extends Error {
  constructor(status, problem, retryAfterS = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.retryAfterS = retryAfterS; // seconds, from Retry-After (429, 503)
  }
}

/** The signed-in session, kept in sessionStorage (gone when the tab closes). */
export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
  get project() {
    return sessionStorage.getItem(PROJECT);
  },
  set project(value) {
    if (value) sessionStorage.setItem(PROJECT, value);
    else sessionStorage.removeItem(PROJECT);
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(PROJECT);
  },
};

/** The URL of an API path ("/v1/me"), resolved next to the directory the UI is served from (/ui/ → /v1/me). */
export function apiUrl(path, query = {}) {
  const url = new URL(`..${path}`, import.meta.url);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

/** Send a request with the session's credentials; resolve to the Response, reject with ApiError when not 2xx. */
export async function request(path, { method = "GET", query, json, headers = {}, signal } = {}) {
  const sent = new Headers(headers);
  if (session.key) sent.set("Authorization", `Bearer ${session.key}`);
  if (session.project) sent.set("X-Mka-Project", session.project);
  let body;
  if (json !== undefined) {
    sent.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }
  const response = await fetch(apiUrl(path, query), {
    method, headers: sent, body, signal, cache: "no-store", credentials: "omit",
  });
  if (!response.ok) {
    const wait = Number.parseFloat(response.headers.get("Retry-After") || "");
    throw new ApiError(response.status, await readProblem(response), Number.isFinite(wait) ? wait : null);
  }
  return response;
}

/** GET a JSON document. */
export async function getJson(path, options = {}) {
  return (await request(path, options)).json();
}

/** POST a JSON body; resolve to the JSON answer. */
export async function postJson(path, json, options = {}) {
  return (await request(path, { ...options, method: "POST", json })).json();
}

/** What to tell a person about a failure: the problem's detail, else the error's message. */
export function describe(error) {
  if (error instanceof ApiError) return error.problem.detail || error.problem.title || `HTTP ${error.status}`;
  if (error && error.name === "AbortError") return "The request was cancelled.";
  return `The portal could not be reached (${error && error.message ? error.message : error}).`;
}

async function readProblem(response) {
  const text = await response.text().catch(() => "");
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // not JSON: a proxy's or the server's plain error page
  }
  const detail = text.slice(0, 300) || `HTTP ${response.status}`;
  return { title: response.statusText || "Error", status: response.status, detail };
}
