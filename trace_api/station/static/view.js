// Drawing the running list (grouped by batch, with counts) and the submitted scans with their outcomes. Text only
// ever goes in through textContent: a scanned code is data, never markup.
import { batchKey } from "./codes.js";

export const FORGED = new Set(["unknown_issuer", "revoked_issuer", "bad_signature", "malformed_signature"]);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null));
  return node;
}

export function codeLabel(code) {
  if (code.sscc) return `SSCC ${code.sscc}`;
  if (code.serial !== null) return code.serial;
  return code.lot !== null ? `${code.gtin} / ${code.lot}` : code.gtin;
}

function verdictBadge(t, reason) {
  const tone = reason === "genuine" ? "good" : FORGED.has(reason) ? "bad" : "warn";
  return el("span", { class: `badge ${tone}`, "data-verdict": reason, text: t(`verdict_${reason}`) });
}

export function renderDraft(t, container, lines) {
  const groups = new Map();
  for (const line of lines) {
    const key = batchKey(line.code);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(line);
  }
  container.replaceChildren(
    ...[...groups].map(([key, members]) => {
      const counted = members.filter((line) => !FORGED.has(line.verdict)).length;
      const header = el(
        "div",
        { class: "group-head" },
        el("span", { class: "batch", text: key }),
        el("span", { class: "count", "data-count": String(counted), text: t("units", { n: counted }) }),
      );
      const items = members.map((line) =>
        el(
          "li",
          { class: "code", "data-path": line.code.path, "data-verdict": line.verdict },
          el("span", { class: "serial", text: line.label }),
          verdictBadge(t, line.verdict),
        ),
      );
      return el("li", { class: "group", "data-batch": key }, header, el("ul", { class: "codes" }, ...items));
    }),
  );
}

function refusalText(t, outcome) {
  const known = t(`error_${outcome.error}`);
  const reason = known === `error_${outcome.error}` ? outcome.error : known;
  return `${reason}: ${outcome.detail}`;
}

function codeLine(t, entry, code) {
  const outcome = entry.outcome;
  const line = el("li", { class: "code", "data-path": code.path }, el("span", { class: "serial", text: code.label }));
  if (entry.state === "refused") {
    const concerned = entry.codes.length === 1 || outcome.context?.code === code.path;
    line.append(el("span", { class: "refusal", text: concerned ? refusalText(t, outcome) : t("with_group") }));
  }
  return line;
}

export function renderSent(t, container, entries) {
  container.replaceChildren(
    ...entries.map((entry) => {
      const head = el(
        "div",
        { class: "sent-head" },
        el("span", { class: "action", text: t(`act_${entry.scan.action}`) }),
        el("span", { class: `badge state-${entry.state}`, text: t(`state_${entry.state}`) }),
      );
      const codes = entry.codes.map((code) => codeLine(t, entry, code));
      if (entry.state === "refused" && entry.codes.length === 0) {
        codes.push(el("li", { class: "code" }, el("span", { class: "refusal", text: refusalText(t, entry.outcome) })));
      }
      return el(
        "li",
        { class: "sent", "data-state": entry.state, "data-key": entry.key },
        head,
        el("ul", { class: "codes" }, ...codes),
      );
    }),
  );
}
