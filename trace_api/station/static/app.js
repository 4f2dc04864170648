// The station app: sign in, choose an action, add codes by camera, wedge scanner or hand, submit the list. Every
// submission goes through the IndexedDB queue and is sent at once when online, later when not (docs/station.md).
import { Camera } from "./camera.js";
import { NotACode, readScan } from "./codes.js";
import { signal } from "./feedback.js";
import { PlanError, planScans } from "./plan.js";
import { allScans, deleteSetting, enqueue, getSetting, setSetting } from "./store.js";
import { SYNC_TAG, syncQueue } from "./sync.js";
import { KeySet, check } from "./verify.js";
import { FORGED, codeLabel, renderDraft, renderSent } from "./view.js";
import { words } from "./words.js";

const $ = (id) => document.getElementById(id);
const state = { lang: "zh-CN", t: words("zh-CN"), keySet: null, draft: [], org: null, camera: null };

function preferredLanguage() {
  const first = (navigator.languages || [navigator.language || ""]).find((l) => /^(zh|en)/i.test(l)) || "zh";
  return first.toLowerCase().startsWith("en") ? "en" : "zh-CN";
}

function translate() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = state.t(node.dataset.t);
  $("lang").textContent = state.t("other_lang");
  $("camera-button").textContent = state.t(state.camera?.running ? "camera_stop" : "camera_start");
}

function flash(key, values, good) {
  $("flash").textContent = state.t(key, values);
  $("flash").dataset.tone = good ? "good" : "bad";
}

async function render() {
  const online = navigator.onLine;
  $("network").dataset.state = online ? "online" : "offline";
  $("network").textContent = state.t(online ? "online" : "offline");
  renderDraft(state.t, $("list"), state.draft);
  $("list-count").textContent = state.draft.length ? String(state.draft.length) : "";
  const entries = await allScans();
  renderSent(state.t, $("sent"), entries);
  const pending = entries.filter((entry) => entry.state === "pending").length;
  $("pending").hidden = pending === 0;
  $("pending").textContent = state.t("pending", { n: pending });
  document.body.dataset.pending = String(pending);
}

async function refreshKeySet() {
  const cached = await getSetting("keyset");
  if (cached) state.keySet = new KeySet(cached.document);
  try {
    const reply = await fetch("/api/v1/issuers", { headers: cached ? { "If-None-Match": cached.etag } : {} });
    if (reply.status === 200) {
      const document = await reply.json();
      state.keySet = new KeySet(document);
      await setSetting("keyset", { document, etag: reply.headers.get("ETag") });
    }
  } catch {
    // Offline: the cached key set is what we have.
  }
  document.body.dataset.keyset = state.keySet ? "ready" : "missing";
}

function verdictOf(text) {
  if (state.keySet) return check(state.keySet, text);
  try {
    return { reason: "unchecked", code: readScan(text) };
  } catch (error) {
    if (error instanceof NotACode) return { reason: "not_a_code", code: null };
    throw error;
  }
}

function addCode(text) {
  if (!text.trim()) return;
  const verdict = verdictOf(text);
  if (verdict.reason === "not_a_code" || verdict.code === null) {
    flash("not_a_code", {}, false);
    signal(false);
    return;
  }
  const code = verdict.code;
  const label = codeLabel(code);
  if (state.draft.some((line) => line.code.path === code.path)) {
    flash("duplicate", { code: label }, false);
    return;
  }
  const forged = FORGED.has(verdict.reason);
  state.draft.push({ text: code.text, code, label, verdict: verdict.reason, scannedAt: new Date().toISOString() });
  flash(forged ? "forged_not_added" : "added", { code: label }, !forged);
  signal(!forged);
  render();
}

function params() {
  return {
    to_org: $("to-org").value,
    shipment: $("shipment").value,
    sscc: $("sscc").value,
    passed: document.querySelector("input[name=passed]:checked")?.value !== "false",
    reason: $("reason").value.trim(),
    output_gtin: $("output-gtin").value,
    output_lot: $("output-lot").value,
    output_quantity: $("output-quantity").value,
  };
}

async function submit() {
  const action = $("action").value;
  const lines = state.draft.filter((line) => !FORGED.has(line.verdict));
  let entries;
  try {
    entries = planScans(action, params(), lines, new Date().toISOString(), () => crypto.randomUUID());
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    const values = error.values.field ? { field: state.t(error.values.field) } : {};
    flash(error.key, values, false);
    return;
  }
  await enqueue(entries);
  state.draft = [];
  flash("queued", { n: entries.length }, true);
  await render();
  const registration = await navigator.serviceWorker?.getRegistration("/scan");
  if (registration && "sync" in registration) await registration.sync.register(SYNC_TAG).catch(() => {});
  await syncNow();
}

async function syncNow() {
  if (navigator.onLine) {
    const result = await syncQueue();
    if (result.status === "signed_out" && (await getSetting("token"))) await signOut();
  }
  await render();
}

function showFields() {
  const action = $("action").value;
  for (const node of document.querySelectorAll("[data-for]"))
    node.hidden = !node.dataset.for.split(" ").includes(action);
}

async function signIn() {
  const token = $("token").value.trim();
  let reply;
  try {
    reply = await fetch("/api/v1/orgs/me", { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    $("signin-error").hidden = false;
    $("signin-error").textContent = state.t("signin_offline");
    return;
  }
  if (!reply.ok) {
    $("signin-error").hidden = false;
    $("signin-error").textContent = state.t("signin_failed");
    return;
  }
  await setSetting("token", token);
  await setSetting("org", await reply.json());
  $("token").value = "";
  await start();
}

async function signOut() {
  await deleteSetting("token");
  await deleteSetting("org");
  state.org = null;
  $("station").hidden = true;
  $("signin").hidden = false;
}

async function toggleCamera() {
  state.camera ??= new Camera($("camera"), addCode);
  if (state.camera.running) state.camera.stop();
  else {
    try {
      await state.camera.start();
      document.body.dataset.camera = state.camera.engine;
    } catch (error) {
      console.error("camera:", error);
      flash("camera_failed", {}, false);
    }
  }
  translate();
}

async function start() {
  state.org = await getSetting("org");
  $("signin").hidden = Boolean(state.org);
  $("station").hidden = !state.org;
  if (!state.org) return;
  $("org-name").textContent = state.org.name;
  const action = await getSetting("action");
  if (action) $("action").value = action;
  showFields();
  await refreshKeySet();
  await syncNow();
  $("code").focus();
}

function wire() {
  $("lang").addEventListener("click", async () => {
    state.lang = state.lang === "en" ? "zh-CN" : "en";
    state.t = words(state.lang);
    await setSetting("lang", state.lang);
    translate();
    render();
  });
  $("signin-button").addEventListener("click", signIn);
  $("signout").addEventListener("click", signOut);
  $("action").addEventListener("change", () => {
    showFields();
    setSetting("action", $("action").value);
  });
  // A wedge scanner types the code and then Enter; so does a person.
  $("code").addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    addCode($("code").value);
    $("code").value = "";
  });
  $("wedge").addEventListener("submit", (event) => event.preventDefault());
  $("camera-button").addEventListener("click", toggleCamera);
  $("submit").addEventListener("click", submit);
  $("clear").addEventListener("click", () => {
    state.draft = [];
    render();
  });
  window.addEventListener("online", syncNow);
  window.addEventListener("offline", render);
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "synced") render();
  });
}

async function main() {
  state.lang = (await getSetting("lang")) || preferredLanguage();
  state.t = words(state.lang);
  translate();
  wire();
  if ("serviceWorker" in navigator) {
    await navigator.serviceWorker.register("/scan/sw.js", { scope: "/scan", type: "module" }).catch(() => {});
  }
  await start();
  document.body.dataset.ready = "true";
}

main();
