// Server-sent events read with fetch(): a text/event-stream parser and a follower that reconnects with
// Last-Event-ID. EventSource cannot send an Authorization header, so the portal's streams are read this way.

/**
 * Incremental text/event-stream parser (the WHATWG "interpreting an event stream" rules).
 *
 * feed() takes decoded text in chunks of any size; lines end in CRLF, LF or CR; `id:`, `event:`, `data:` and
 * `retry:` fields accumulate until a blank line dispatches the event; lines starting with ":" are comments.
 *
 *   const parser = new EventStreamParser((event) => console.log(event.id, event.type, event.data));
 *   parser.feed("id: 1\nevent: job.state_changed\ndata: {\"payload\": {}}\n\n");
 */
export class EventStreamParser {
  constructor(onEvent, { onComment = () => {}, onRetry = () => {}, lastEventId = "" } = {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.onRetry = onRetry;
    this.lastEventId = lastEventId;
    this.pending = "";
    this.started = false;
    this.type = "";
    this.data = [];
  }

  /** Parse a chunk of text; `final` marks the end of the stream (an event without its blank line is dropped). */
  feed(chunk, final = false) {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let held = "";
    if (!final && text.endsWith("\r")) {
      held = "\r"; // maybe the first half of a CRLF split across chunks
      text = text.slice(0, -1);
    }
    const lines = text.split(/\r\n|\r|\n/);
    this.pending = final ? "" : lines.pop() + held;
    if (final && lines.length && lines[lines.length - 1] === "") lines.pop();
    for (const line of lines) this.line(line);
    if (final) {
      this.type = "";
      this.data = [];
    }
  }

  line(line) {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) {
      this.onComment(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") {
      if (!value.includes("\0")) this.lastEventId = value;
    } else if (field === "retry") {
      if (/^\d+$/.test(value)) this.onRetry(Number(value));
    }
  }

  dispatch() {
    if (this.data.length === 0) {
      this.type = "";
      return;
    }
    const event = { id: this.lastEventId, type: this.type || "message", data: this.data.join("\n") };
    this.type = "";
    this.data = [];
    this.onEvent(event);
  }
}

/** Read a response body to its end through `parser` (UTF-8, split multi-byte characters kept whole). */
export async function pump(body, parser) {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    parser.feed(decoder.decode(), true);
  } finally {
    reader.releaseLock();
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Follow an event stream until `finished()` says so, reconnecting with the last event id.
 *
 * open(lastEventId, signal) → Promise<Response>: starts one stream (the caller adds Last-Event-ID and credentials).
 * onEvent(event): each dispatched event ({id, type, data}). onStatus(status, detail): "connecting", "open",
 * "reconnecting", "finished", "closed", "failed". finished() → Promise<boolean>: asked whenever a stream ends.
 * Streams end when the job is terminal, on `stream.timeout` (reconnect) and `stream.closed` (stop: the credential
 * is no longer valid). Errors that a retry cannot fix (an HTTP 4xx other than 429) stop at once; a busy portal
 * (429, 5xx: its Retry-After is honoured) and a lost connection are retried with exponential backoff and jitter
 * (capped at `maxDelayMs`) until the caller aborts. Resolves to why it stopped.
 */
export async function follow({ open, onEvent, onStatus = () => {}, onComment = () => {}, finished, signal,
  retryMs = 2000, maxDelayMs = 30000 }) {
  let lastEventId = "";
  let retry = retryMs;
  let errors = 0;
  let told = null; // the portal's Retry-After, in ms
  while (!signal?.aborted) {
    let ending = "end";
    told = null;
    const parser = new EventStreamParser((event) => {
      if (event.type === "stream.timeout") ending = "timeout";
      if (event.type === "stream.closed") ending = "closed";
      onEvent(event);
    }, { onComment, onRetry: (ms) => { retry = ms; }, lastEventId });
    try {
      onStatus(lastEventId ? "reconnecting" : "connecting", lastEventId);
      const response = await open(lastEventId, signal);
      onStatus("open", lastEventId);
      errors = 0;
      await pump(response.body, parser);
    } catch (error) {
      lastEventId = parser.lastEventId;
      if (signal?.aborted) return "aborted";
      const status = error && error.status;
      errors += 1;
      if (status >= 400 && status < 500 && status !== 429) {
        onStatus("failed", error);
        return "failed";
      }
      ending = "error";
      told = error && error.retryAfterS != null ? error.retryAfterS * 1000 : null;
    }
    lastEventId = parser.lastEventId;
    if (signal?.aborted) return "aborted";
    if (ending === "closed") {
      onStatus("closed");
      return "closed";
    }
    if (await finished()) {
      onStatus("finished");
      return "finished";
    }
    onStatus("waiting", ending);
    const backoff = Math.min(maxDelayMs, retry * 2 ** (errors - 1)) * (0.5 + Math.random() / 2);
    await sleep(ending === "error" ? Math.max(told ?? 0, backoff) : retry, signal);
  }
  return "aborted";
}
