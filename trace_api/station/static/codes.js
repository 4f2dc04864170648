// What one scan read — a wedge scanner's line, a camera's decoded text or a typed code — parsed into the code it
// names and the issuer signature it carries. The Python scanner (scanner/reading.py, on biip) parses the same
// inputs the same way: both test suites read tests/data/station/code-vectors.json. This side knows the
// Application Identifiers found on food and vaccine labels (the table below); biip knows them all.

const GS = "\x1d";
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const CSET_82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;

// AI → [digits of the AI, fixed value length or null, maximum length]
const FIXED = (ai, length) => [ai.length, length, length];
const VARIABLE = (ai, max) => [ai.length, null, max];
const AIS = new Map([
  ["00", FIXED("00", 18)],
  ["01", FIXED("01", 14)],
  ["02", FIXED("02", 14)],
  ["10", VARIABLE("10", 20)],
  ["11", FIXED("11", 6)],
  ["12", FIXED("12", 6)],
  ["13", FIXED("13", 6)],
  ["15", FIXED("15", 6)],
  ["16", FIXED("16", 6)],
  ["17", FIXED("17", 6)],
  ["20", FIXED("20", 2)],
  ["21", VARIABLE("21", 20)],
  ["22", VARIABLE("22", 20)],
  ["30", VARIABLE("30", 8)],
  ["37", VARIABLE("37", 8)],
  ["240", VARIABLE("240", 30)],
  ["241", VARIABLE("241", 30)],
  ["250", VARIABLE("250", 30)],
  ["251", VARIABLE("251", 30)],
  ["400", VARIABLE("400", 30)],
  ["422", FIXED("422", 3)],
  ["7003", FIXED("7003", 10)],
  ["8004", VARIABLE("8004", 30)],
  ["90", VARIABLE("90", 30)],
]);
for (let ai = 410; ai <= 417; ai++) AIS.set(String(ai), FIXED(String(ai), 13));
for (let ai = 710; ai <= 715; ai++) AIS.set(String(ai), VARIABLE(String(ai), 20));
for (let ai = 91; ai <= 99; ai++) AIS.set(String(ai), VARIABLE(String(ai), 90));
// Measures and amounts (310n–369n, 390n–395n): four digits, six-digit value.
for (let head = 310; head <= 369; head++) for (let n = 0; n <= 9; n++) AIS.set(`${head}${n}`, FIXED(`${head}${n}`, 6));
// Key qualifiers that change what a GTIN names: ignoring them would merge distinct objects.
const REFUSED_QUALIFIERS = new Map([
  ["22", "consumer product variant"],
  ["235", "third-party serial extension"],
]);

export class NotACode extends Error {}

function refuse(text, reason) {
  return new NotACode(`${JSON.stringify(text)} is not a code lotline can read: ${reason}`);
}

export function checkDigit(body) {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const weight = (body.length - i) % 2 === 1 ? 3 : 1;
    sum += Number(body[i]) * weight;
  }
  return String((10 - (sum % 10)) % 10);
}

function gtin14(text, value) {
  if (!/^\d+$/.test(value) || ![8, 12, 13, 14].includes(value.length))
    throw refuse(text, `GTIN ${value} is not 8, 12, 13 or 14 digits`);
  if (checkDigit(value.slice(0, -1)) !== value.at(-1)) throw refuse(text, `GTIN ${value} has a wrong check digit`);
  return value.padStart(14, "0");
}

function sscc18(text, value) {
  if (!/^\d{18}$/.test(value)) throw refuse(text, `SSCC ${value} is not 18 digits`);
  if (checkDigit(value.slice(0, -1)) !== value.at(-1)) throw refuse(text, `SSCC ${value} has a wrong check digit`);
  return value;
}

function cset82(text, value, what) {
  if (!CSET_82.test(value)) throw refuse(text, `the ${what} ${JSON.stringify(value)} is not 1–20 GS1 characters`);
  return value;
}

// Python's quote(value, safe=""): everything but letters, digits and - . _ ~ is percent-encoded.
function encodeSegment(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function link(text, values, signature = null) {
  for (const [ai, name] of REFUSED_QUALIFIERS) {
    if (values.has(ai)) throw refuse(text, `AI (${ai}), ${name}, is a key qualifier lotline does not use`);
  }
  let code;
  if (values.has("00")) {
    code = { kind: "sscc", gtin: null, lot: null, serial: null, sscc: sscc18(text, values.get("00")) };
  } else if (values.has("01")) {
    const lot = values.has("10") ? cset82(text, values.get("10"), "lot") : null;
    const serial = values.has("21") ? cset82(text, values.get("21"), "serial") : null;
    const kind = serial !== null ? "item" : lot !== null ? "batch" : "product";
    code = { kind, gtin: gtin14(text, values.get("01")), lot, serial, sscc: null };
  } else {
    throw refuse(text, "it carries no GTIN (01) or SSCC (00)");
  }
  const pairs = [
    ["00", code.sscc],
    ["01", code.gtin],
    ["10", code.lot],
    ["21", code.serial],
  ];
  code.path = pairs
    .filter(([, v]) => v !== null)
    .map(([ai, v]) => `/${ai}/${encodeSegment(v)}`)
    .join("");
  return { ...code, signature };
}

function put(text, values, ai, value) {
  if (values.has(ai) && values.get(ai) !== value) throw refuse(text, `AI (${ai}) appears twice with different values`);
  values.set(ai, value);
}

function readDigitalLink(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw refuse(text, "it is not a URI");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw refuse(text, `the scheme ${url.protocol} is not http(s)`);
  const segments = url.pathname.split("/");
  const start = segments.findIndex((s) => s === "01" || s === "00");
  if (start < 0) throw refuse(text, "its path has no /01/ (GTIN) or /00/ (SSCC) segment");
  const rest = segments.slice(start);
  if (rest.length % 2 !== 0) throw refuse(text, "its path ends with an AI without value");
  const order = rest[0] === "00" ? ["00"] : ["01", "22", "10", "21"];
  const values = new Map();
  let last = -1;
  for (let i = 0; i < rest.length; i += 2) {
    const at = order.indexOf(rest[i]);
    if (at <= last) throw refuse(text, `AI ${rest[i]} is out of place in a Digital Link path`);
    last = at;
    try {
      values.set(rest[i], decodeURIComponent(rest[i + 1]));
    } catch {
      throw refuse(text, "its path has a broken percent-encoding");
    }
  }
  const signatures = url.searchParams.getAll("s");
  if (signatures.length > 1) throw refuse(text, "the code carries more than one signature");
  return link(text, values, signatures.length ? signatures[0] : null);
}

function readParenthesised(text, body) {
  const values = new Map();
  const element = /\(\s*(\d{2,4})\s*\)\s*([^()]*?)\s*(?=\(|$)/y;
  let at = 0;
  while (at < body.length) {
    element.lastIndex = at;
    const match = element.exec(body);
    if (!match) throw refuse(text, "it is not a GS1 element string");
    if (/\s/.test(match[2])) throw refuse(text, `whitespace inside the value ${JSON.stringify(match[2])}`);
    checkLength(text, match[1], match[2]);
    put(text, values, match[1], match[2]);
    at = element.lastIndex;
  }
  return link(text, values);
}

function checkLength(text, ai, value) {
  const spec = AIS.get(ai);
  if (!spec) throw refuse(text, `AI (${ai}) is not one the station reads`);
  const [, fixed, max] = spec;
  if ((fixed !== null && value.length !== fixed) || value.length === 0 || value.length > max) {
    throw refuse(text, `AI (${ai}) has a value of the wrong length`);
  }
}

function aiAt(text, body, at) {
  for (const digits of [2, 3, 4]) {
    const ai = body.slice(at, at + digits);
    if (AIS.has(ai)) return ai;
  }
  throw refuse(text, `no Application Identifier the station reads at ${JSON.stringify(body.slice(at, at + 4))}`);
}

function readRaw(text, body) {
  const values = new Map();
  let at = 0;
  while (at < body.length) {
    if (body[at] === GS) {
      at += 1;
      continue;
    }
    const ai = aiAt(text, body, at);
    const [digits, fixed, max] = AIS.get(ai);
    const from = at + digits;
    let to = fixed !== null ? from + fixed : body.indexOf(GS, from);
    if (to < 0) to = body.length;
    const value = body.slice(from, to);
    if ((fixed !== null && value.length !== fixed) || value.length === 0 || value.length > max) {
      throw refuse(text, `AI (${ai}) has a value of the wrong length`);
    }
    put(text, values, ai, value);
    at = to;
  }
  return link(text, values);
}

/** Parse one scan: {text, kind, gtin, lot, serial, sscc, path, signature}; throws NotACode. */
export function readScan(input) {
  const text = input.replace(/^[\r\n]+|[\r\n]+$/g, "");
  if (URI_SCHEME.test(text.trim())) return { text: text.trim(), ...readDigitalLink(text.trim()) };
  // Python's str.strip() also strips the ASCII separators, a leading GS (a scanner's first FNC1) among them.
  let body = text.replace(/^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$/g, "");
  if (body.startsWith("]")) {
    if (!/^\][A-Za-z][0-9A-Za-z]/.test(body)) throw refuse(text, "a broken symbology identifier");
    body = body.slice(3);
  }
  if (!body) throw refuse(text, "it holds no data");
  if (/^\d+$/.test(body) && [8, 12, 13, 14, 18].includes(body.length)) {
    const values = new Map([[body.length === 18 ? "00" : "01", body]]);
    return { text, ...link(text, values) };
  }
  if (body.startsWith("(")) return { text, ...readParenthesised(text, body) };
  return { text, ...readRaw(text, body) };
}

/** The key of a code's batch, for grouping the running list: "gtin/lot", the SSCC, or the GTIN alone. */
export function batchKey(code) {
  if (code.sscc) return `SSCC ${code.sscc}`;
  return code.lot !== null ? `${code.gtin} / ${code.lot}` : code.gtin;
}
