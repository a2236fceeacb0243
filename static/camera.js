// The camera that reads badge QR codes, for the door's scanner page and the entrance kiosk.
// It reads with the browser's own BarcodeDetector where it has one that knows QR codes, and elsewhere with the
// vendored barcode-detector ponyfill (ZXing-C++ compiled to WebAssembly), whose .wasm comes from our own static
// files, never from a CDN: the door works on a venue network with no way out, and offline.
//
//   BadgeCamera.unavailableReason()        "" or why no camera can start: "insecure", "missing_api", "no_reader"
//   BadgeCamera.start(video, onCode, onStatus)   resolves to true once the camera runs; onCode(text) for each badge
//                                          seen (the same one at most once while it stays in view);
//                                          onStatus(key, detail) with key "on", "off", "refused", "not_found",
//                                          "busy", "failed", "no_reader" or one of unavailableReason's
//   BadgeCamera.stop()
//   BadgeCamera.readerName                 "native" or "zxing-wasm" once a reader is loaded
//   BadgeCamera.files                      what the camera may load later, for a page kept offline to keep too
(function () {
  "use strict";

  const WASM_URL = new URL("vendor/barcode-detector/zxing_reader.wasm", document.currentScript.src).href;
  const FRAME_EVERY_MS = 100;  // ten reads a second find a badge at once and leave a phone's CPU some rest
  const REPEAT_MS = 5000;  // the camera sees a badge in every frame: a code seen this recently is not sent again
  // Every other frame is read scaled down to this width: in dim light, scaling averages the sensor noise away and
  // reads badges the full frame does not, while the full frame reads small, far or blurred badges
  // (bench/qr_readers.py: reading both ways in turn read the most frames).
  const SCALED_WIDTH = 640;

  let readerPromise = null;
  let stream = null;
  let running = 0;  // a new number for each start, so that an old loop stops by itself

  function unavailableReason() {
    if (!window.isSecureContext) return "insecure";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "missing_api";
    if (!("BarcodeDetector" in window) && !window.BarcodeDetectionAPI) return "no_reader";
    return "";
  }

  async function nativeReader() {
    if (!("BarcodeDetector" in window)) return null;
    try {  // Chromium on Linux and Windows has the API on some builds but no QR engine behind it
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (error) {
      return null;
    }
  }

  async function loadReader() {
    const native = await nativeReader();
    if (native) return { name: "native", detector: native };
    const api = window.BarcodeDetectionAPI;
    if (!api) throw new Error("no QR reader on this page");
    await api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM_URL : prefix + path) },
      fireImmediately: true,  // load now, and fail now if it cannot, rather than on the first frame
    });
    return { name: "zxing-wasm", detector: new api.BarcodeDetector({ formats: ["qr_code"] }) };
  }

  function reader() {
    readerPromise = readerPromise || loadReader().catch((error) => { readerPromise = null; throw error; });
    return readerPromise;
  }

  const MEDIA_ERRORS = { NotAllowedError: "refused", SecurityError: "refused", NotFoundError: "not_found",
                         OverconstrainedError: "not_found", NotReadableError: "busy" };

  async function start(video, onCode, onStatus) {
    const problem = unavailableReason();
    if (problem) { onStatus(problem); return false; }
    stop();  // one camera at a time
    const loading = reader();  // the camera's permission prompt and the reader's download overlap
    loading.catch(() => { /* said below, once the camera has answered */ });
    let found;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (error) {
      onStatus(MEDIA_ERRORS[error.name] || "failed", error.name);
      return false;
    }
    try {
      found = await loading;
    } catch (error) {
      stop();
      onStatus("no_reader");
      return false;
    }
    window.BadgeCamera.readerName = found.name;
    video.srcObject = stream;
    video.hidden = false;
    try {
      await video.play();
    } catch (error) {
      stop();
      onStatus("failed", error.name);
      return false;
    }
    onStatus("on");
    readFrames(++running, video, found.detector, onCode);
    return true;
  }

  const scaled = document.createElement("canvas");
  function frameToRead(video, frameNumber) {
    const scale = SCALED_WIDTH / video.videoWidth;
    if (frameNumber % 2 === 0 || scale >= 1) return video;
    scaled.width = SCALED_WIDTH;
    scaled.height = Math.round(video.videoHeight * scale);
    scaled.getContext("2d").drawImage(video, 0, 0, scaled.width, scaled.height);
    return scaled;
  }

  async function readFrames(run, video, detector, onCode) {
    let lastCode = "";
    let lastSeenAt = 0;
    let frameNumber = 0;
    while (run === running) {
      const began = performance.now();
      if (video.readyState >= 2 && video.videoWidth) {
        let codes = [];
        try {
          codes = await detector.detect(frameToRead(video, frameNumber++));
        } catch (error) { /* a frame the reader could not take: the next one will do */ }
        const text = codes.length ? String(codes[0].rawValue || "").trim() : "";
        if (text && run === running) {
          const repeated = text === lastCode && Date.now() - lastSeenAt < REPEAT_MS;
          lastSeenAt = Date.now();
          if (!repeated) {
            lastCode = text;
            onCode(text);
          }
        }
      }
      const rest = FRAME_EVERY_MS - (performance.now() - began);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, rest)));
    }
  }

  function stop() {
    running++;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  window.BadgeCamera = { unavailableReason: unavailableReason, start: start, stop: stop,
                         readerName: "", files: [WASM_URL] };
})();
