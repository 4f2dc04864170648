// Sending the queue: the page does it when it opens, when the network comes back and after each submission; the
// service worker does it on Background Sync. A Web Lock keeps the two from sending at the same time, and every scan
// keeps its own idempotency key through every attempt, so a sync cut off mid-answer is replayed by the server,
// never recorded twice (POST /api/v1/scans/lines, docs/station.md).
import { getSetting, pendingScans, settle } from "./store.js";

const LINES_PATH = "/api/v1/scans/lines";
const CHUNK = 200;
export const SYNC_TAG = "lotline-sync";

async function listKey(keys) {
  const bytes = new TextEncoder().encode("lotline-station-sync:" + keys.join(","));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 40);
}

async function sendChunk(token, chunk) {
  const keys = chunk.map((entry) => entry.key);
  let reply;
  try {
    reply = await fetch(LINES_PATH, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        "Idempotency-Key": await listKey(keys),
      },
      body: JSON.stringify({ scans: chunk.map((entry) => ({ key: entry.key, scan: entry.scan })) }),
    });
  } catch {
    return "offline";
  }
  if (reply.status === 401) return "signed_out";
  if (!reply.ok) return "offline";
  const answer = await reply.json();
  await settle(answer.lines);
  return "sent";
}

async function run() {
  const token = await getSetting("token");
  if (!token) return { status: "signed_out" };
  let sent = 0;
  let previous = null;
  for (;;) {
    const chunk = await pendingScans(CHUNK);
    if (chunk.length === 0) return { status: "done", sent };
    // An answer that settled nothing would send the same chunk forever.
    if (chunk[0].key === previous) return { status: "offline", sent };
    previous = chunk[0].key;
    const status = await sendChunk(token, chunk);
    if (status !== "sent") return { status, sent };
    sent += chunk.length;
  }
}

/** Send every pending scan; {status: done | offline | signed_out, sent}. */
export function syncQueue() {
  return navigator.locks.request(SYNC_TAG, run);
}
