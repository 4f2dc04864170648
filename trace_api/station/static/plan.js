// Turning the running list into scans for the API. Per-item actions (sell, administer, destroy, inspect) become
// one scan per code, each with the time it was scanned: each is its own act, accepted or refused on its own line.
// Actions that move goods as one consignment (receive, ship, pack, unpack, transform) become one scan naming all
// codes: one shipment, one case, one transformation.

export const PER_ITEM = new Set(["sell", "administer", "destroy", "inspect"]);
export const GOODS_OPTIONAL = new Set(["receive", "unpack"]);
// What each action needs besides codes, and the input it comes from.
export const NEEDS = {
  ship: ["to_org"],
  receive: ["shipment"],
  pack: ["sscc"],
  unpack: ["sscc"],
  transform: ["output_gtin", "output_lot", "output_quantity"],
};

export class PlanError extends Error {
  constructor(key, values = {}) {
    super(key);
    this.key = key;
    this.values = values;
  }
}

function extra(action, params) {
  for (const field of NEEDS[action] || []) {
    if (!String(params[field] ?? "").trim()) throw new PlanError("needs", { field });
  }
  switch (action) {
    case "ship":
      return { to_org: params.to_org.trim().toUpperCase() };
    case "receive":
      return { shipment_id: Number.parseInt(params.shipment, 10) };
    case "pack":
    case "unpack":
      return { sscc: params.sscc.trim() };
    case "inspect":
      return { passed: params.passed !== false, ...(params.reason ? { reason: params.reason } : {}) };
    case "transform":
      return {
        output: {
          gtin: params.output_gtin.trim(),
          lot: params.output_lot.trim(),
          quantity: Number.parseInt(params.output_quantity, 10),
        },
      };
    default:
      return {};
  }
}

/** [{key, scan, codes}] for the queue; `lines` are the list's codes that are not flagged as forged. */
export function planScans(action, params, lines, now, newKey) {
  if (lines.length === 0 && !GOODS_OPTIONAL.has(action)) throw new PlanError("empty_list");
  const shared = { action, ...extra(action, params) };
  if (params.location_id) shared.location_id = params.location_id;
  const summary = (line) => ({ text: line.text, path: line.code.path, label: line.label });
  if (PER_ITEM.has(action)) {
    return lines.map((line) => ({
      key: newKey(),
      scan: { ...shared, codes: [line.text], event_time: line.scannedAt },
      codes: [summary(line)],
    }));
  }
  return [
    {
      key: newKey(),
      scan: { ...shared, codes: lines.map((line) => line.text), event_time: now },
      codes: lines.map(summary),
    },
  ];
}
