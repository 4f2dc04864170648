// Continuous scanning with the phone's camera. The browser's BarcodeDetector reads the frames where it exists
// (Chrome on Android); elsewhere zxing-cpp compiled to WebAssembly (npm zxing-wasm) does, loaded from this server
// only: its default would fetch the .wasm from a CDN, which the page's policy forbids anyway.
const FORMATS_DETECTOR = ["qr_code", "data_matrix"];
const FORMATS_ZXING = ["QRCode", "DataMatrix"];
const FRAME_INTERVAL_MS = 150;
const SAME_CODE_QUIET_MS = 2500;

async function detectorReader() {
  if (!("BarcodeDetector" in globalThis)) return null;
  const supported = await globalThis.BarcodeDetector.getSupportedFormats();
  if (!FORMATS_DETECTOR.every((format) => supported.includes(format))) return null;
  const detector = new globalThis.BarcodeDetector({ formats: FORMATS_DETECTOR });
  return async (video) => (await detector.detect(video)).map((found) => found.rawValue);
}

async function zxingReader() {
  const zxing = await import("./vendor/zxing-reader.js");
  zxing.prepareZXingModule({
    overrides: {
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? `/scan/static/vendor/${path}` : prefix + path),
    },
    fireImmediately: true,
  });
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    if (!video.videoWidth) return [];
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    context.drawImage(video, 0, 0);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = await zxing.readBarcodes(frame, { formats: FORMATS_ZXING, tryHarder: true, maxNumberOfSymbols: 4 });
    return found.filter((barcode) => barcode.isValid).map((barcode) => barcode.text);
  };
}

export class Camera {
  constructor(video, onText) {
    this.video = video;
    this.onText = onText;
    this.stream = null;
    this.timer = null;
    this.lastSeen = new Map();
  }

  get running() {
    return this.stream !== null;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
    const detector = await detectorReader();
    this.engine = detector ? "BarcodeDetector" : "zxing-wasm";
    const read = detector || (await zxingReader());
    const tick = async () => {
      if (!this.stream) return;
      try {
        for (const text of await read(this.video)) this.seen(text);
      } finally {
        if (this.stream) this.timer = setTimeout(tick, FRAME_INTERVAL_MS);
      }
    };
    tick();
  }

  // The same symbol stays in view for many frames: report it once, then again only after a quiet spell.
  seen(text) {
    const now = Date.now();
    const last = this.lastSeen.get(text);
    this.lastSeen.set(text, now);
    if (last !== undefined && now - last < SAME_CODE_QUIET_MS) return;
    this.onText(text);
  }

  stop() {
    clearTimeout(this.timer);
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.hidden = true;
    this.video.srcObject = null;
  }
}
