"""QR readers compared on a badge filmed badly: the door camera's readers, in real Chromium, on fake-camera videos.

    .venv/bin/python bench/qr_readers.py [--frames 40] [--keep DIR]

1. Renders a real badge PDF (the app's own template, fonts and QR code) and turns it into an image with pdftoppm.
2. Writes one YUV4MPEG2 video (1280x720, the size a door phone's camera gives a web page) per condition: the
   badge held up clearly, small (far from the camera), tilted, under a glare, out of focus, and in dim light
   with sensor noise. Every frame moves a little and has its own noise, as a hand-held badge does.
3. For each video, starts Chromium with `--use-fake-device-for-media-stream --use-file-for-fake-video-capture`,
   opens a page served from 127.0.0.1 that gets the camera with getUserMedia, and on each of `--frames` frames
   runs every reader and checks that it read the badge's own code:
   - `native`: the browser's BarcodeDetector, on the video element (the full frame), when the
     browser has one that knows QR codes (Chromium has it on Android, ChromeOS and macOS; not on Linux);
   - `zxing-wasm`: the vendored barcode-detector ponyfill (static/vendor/barcode-detector), on the video
     element: the full frame;
   - `zxing-wasm 640`: the same on the frame scaled to 640 pixels wide, the input the old reader had;
   - `camera.js`: the two in turn, a frame each, as static/camera.js reads (native or polyfill alike);
   - `jsQR 640`: jsQR 1.4.0, the reader the scanner used before, exactly as the old checkin.js called it (the
     frame scaled to 640 pixels wide, `inversionAttempts: "dontInvert"`). jsQR is no longer in the app: this
     script takes it from the npm registry (`npm pack jsqr@1.4.0`) into a temp folder, and leaves it out when
     npm cannot get it.
Prints, per condition and reader, the frames read (of those tried) and the median and 90th-percentile time per
frame. A measurement, not a test: it always exits 0. Only 127.0.0.1 is contacted (and npm's registry for jsQR).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import math
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from datetime import date, time
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT, FPS = 1280, 720, 10
VIDEO_FRAMES = 30
JSQR_VERSION = "1.4.0"
CONDITIONS = ("clear", "small", "tilted", "glare", "blurred", "dim")

PAGE = """<!doctype html><meta charset="utf-8"><title>QR readers</title>
<video id="v" playsinline muted></video><canvas id="c"></canvas>
<script src="barcode-detector.js"></script>
<script src="jsQR.js" onerror="void 0"></script>
<script src="bench.js"></script>"""

# Runs in the page: window.runBench(frames, expected) resolves to {reader: {read, tried, ms: [...]}, ...}.
SCRIPT = r"""
window.runBench = async function (frames, expected) {
  const video = document.getElementById("v");
  const canvas = document.getElementById("c");
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
  await video.play();
  while (!video.videoWidth) await new Promise((r) => setTimeout(r, 20));
  const readers = {};
  let native = null;
  if ("BarcodeDetector" in window) {
    const formats = await BarcodeDetector.getSupportedFormats().catch(() => []);
    if (formats.includes("qr_code")) native = new BarcodeDetector({ formats: ["qr_code"] });
  }
  if (native) readers["native"] = async () => (await native.detect(video)).map((c) => c.rawValue)[0];
  await BarcodeDetectionAPI.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? "zxing_reader.wasm" : prefix + path) },
    fireImmediately: true });
  const zxing = new BarcodeDetectionAPI.BarcodeDetector({ formats: ["qr_code"] });
  readers["zxing-wasm"] = async () => (await zxing.detect(video)).map((c) => c.rawValue)[0];
  readers["zxing-wasm 640"] = async (image) => (await zxing.detect(image)).map((c) => c.rawValue)[0];
  // What static/camera.js does: the full frame and the frame scaled to 640 pixels in turn.
  readers["camera.js"] = async (image, frame) =>
    (await zxing.detect(frame % 2 ? image : video)).map((c) => c.rawValue)[0];
  if (typeof window.jsQR === "function") {
    readers["jsQR 640"] = async (image) => {
      const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      return code ? code.data : undefined;
    };
  }
  const results = {};
  for (const name in readers) results[name] = { read: 0, tried: 0, ms: [] };
  const scale = Math.min(1, 640 / video.videoWidth);
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  await readers["zxing-wasm"]();  // the first call compiles what it needs: not a frame's cost
  for (let frame = 0; frame < frames; frame++) {
    await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
    for (const name in readers) {
      const started = performance.now();
      let image = null;
      if (name.endsWith(" 640") || (name === "camera.js" && frame % 2)) {  // drawn within the reader's time
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        image = context.getImageData(0, 0, canvas.width, canvas.height);
      }
      let text;
      try { text = await readers[name](image, frame); } catch (error) { text = undefined; }
      results[name].ms.push(performance.now() - started);
      results[name].tried++;
      if (text === expected) results[name].read++;
    }
  }
  video.srcObject.getTracks().forEach((track) => track.stop());
  return { hasBarcodeDetector: "BarcodeDetector" in window, results: results };
};
"""


def render_badge(folder: Path) -> tuple[Image.Image, str]:
    """A badge as the app prints it, for a made-up delegate, as a greyscale image at 200 dpi."""
    from attendance import create_app
    from attendance.documents.pdf import render_pdf
    from attendance.models import EntityType, MeetingSession, Mode, Registration, Role, SessionDay
    from attendance.registration.badges import badge_context
    from attendance.tokens import new_badge_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'unused.sqlite3'}", "TESTING": True})
    with app.app_context():  # objects never saved: the badge needs no database
        meeting = MeetingSession(slug="bench", title="19th Session", timezone="Europe/Brussels")
        meeting.days = [SessionDay(date=date(2027, 2, 19), starts_at=time(9), ends_at=time(17))]
        registration = Registration(
            session=meeting,
            full_name="Amélie Dubois",
            organisation="ROCB Europe",
            country="BE",
            entity_type=EntityType(name="Regional Office for Capacity Building (ROCB)"),
            mode=Mode.IN_PERSON,
            role=Role.DELEGATE,
            locale="en",
            badge_token=new_badge_token(),
        )
        pdf = render_pdf("badges/badge.html", badges=[badge_context(registration)], sheet=False)
    (folder / "badge.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(folder / "badge.pdf"), str(folder / "badge")], check=True
    )
    with Image.open(folder / "badge.png") as badge:
        return badge.convert("L"), registration.badge_token


def _perspective_coefficients(source: list[tuple[float, float]], target: list[tuple[float, float]]) -> list:
    """PIL's PERSPECTIVE transform maps target pixels back to source ones: solve the eight coefficients."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return _solve(rows, values)


def _solve(matrix: list[list[float]], values: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting: eight unknowns, no need for numpy."""
    n = len(values)
    augmented = [row[:] + [value] for row, value in zip(matrix, values, strict=True)]
    for column in range(n):
        pivot = max(range(column, n), key=lambda r: abs(augmented[r][column]))
        augmented[column], augmented[pivot] = augmented[pivot], augmented[column]
        for row in range(n):
            if row != column:
                factor = augmented[row][column] / augmented[column][column]
                augmented[row] = [a - factor * b for a, b in zip(augmented[row], augmented[column], strict=True)]
    return [augmented[i][n] / augmented[i][i] for i in range(n)]


def frame(badge: Image.Image, condition: str, rng: random.Random) -> Image.Image:
    """One camera frame of the badge held up in front of a plain background, in `condition`."""
    background = 120 if condition != "dim" else 30
    scene = Image.new("L", (WIDTH, HEIGHT), background)
    height = 200 if condition == "small" else 430  # a badge at arm's length fills about 60 % of the frame's height
    width = round(badge.width * height / badge.height)
    held = badge.resize((width, height), Image.LANCZOS)
    left = (WIDTH - width) // 2 + rng.randint(-12, 12)
    top = (HEIGHT - height) // 2 + rng.randint(-8, 8)
    if condition == "tilted":  # turned by about 20 degrees and leaning back: one side nearer the camera
        corners = [(0, 0), (width, 0), (width, height), (0, height)]
        turn = math.radians(20 + rng.uniform(-2, 2))
        centre = (width / 2, height / 2)
        placed = []
        for n, (x, y) in enumerate(corners):
            dx, dy = x - centre[0], (y - centre[1]) * (0.78 if n < 2 else 1.0)  # the top edge further away
            dx *= 0.85 if n in (1, 2) else 1.0
            placed.append(
                (
                    centre[0] + dx * math.cos(turn) - dy * math.sin(turn) + left,
                    centre[1] + dx * math.sin(turn) + dy * math.cos(turn) + top,
                )
            )
        coefficients = _perspective_coefficients(corners, placed)
        warped = badge.resize((width, height), Image.LANCZOS).transform(
            (WIDTH, HEIGHT), Image.PERSPECTIVE, coefficients, Image.BICUBIC, fillcolor=255
        )
        mask = Image.new("L", (width, height), 255).transform(
            (WIDTH, HEIGHT), Image.PERSPECTIVE, coefficients, Image.BICUBIC, fillcolor=0
        )
        scene.paste(warped, (0, 0), mask)
    else:
        scene.paste(held, (left, top))
    if condition == "glare":  # a ceiling light on glossy paper: a bright haze over half the QR, washing it out
        glare = Image.new("L", (WIDTH, HEIGHT), 0)
        x, y = left + width // 2 + rng.randint(-6, 6), top + round(height * 0.76)
        ImageDraw.Draw(glare).ellipse([x - 60, y - 45, x + 30, y + 25], fill=175)
        glare = glare.filter(ImageFilter.GaussianBlur(14))
        scene = Image.composite(Image.new("L", scene.size, 250), scene, glare)
    if condition == "blurred":  # too close for the lens to focus
        scene = scene.filter(ImageFilter.GaussianBlur(1.6))
    if condition == "dim":  # an unlit corridor: little contrast, much sensor noise
        scene = scene.point(lambda v: 18 + v * 0.25)
    noise = Image.effect_noise((WIDTH, HEIGHT), 10 if condition == "dim" else 5)  # grey 128 give or take sigma
    return ImageChops.add(scene, noise, scale=1.0, offset=-128)


def write_video(path: Path, badge: Image.Image, condition: str) -> None:
    """A YUV4MPEG2 file (4:2:0, grey: the chroma planes are flat), the format Chromium's fake camera reads."""
    rng = random.Random(condition)
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(VIDEO_FRAMES):
            video.write(b"FRAME\n" + frame(badge, condition, rng).tobytes() + chroma + chroma)


def fetch_jsqr(folder: Path) -> bool:
    """jsQR from the npm registry, for the comparison only; False when npm cannot get it."""
    npm = shutil.which("npm")
    if npm is None:
        return False
    packed = subprocess.run(
        [npm, "pack", f"jsqr@{JSQR_VERSION}", "--silent"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    if packed.returncode != 0:
        return False
    with tarfile.open(folder / packed.stdout.strip().splitlines()[-1]) as archive:
        member = archive.extractfile("package/dist/jsQR.js")
        (folder / "jsQR.js").write_bytes(member.read())
    return True


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.floor(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=40, help="frames read per video (default 40)")
    parser.add_argument("--keep", type=Path, help="write the videos, badge and page to this folder and keep them")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="qr-readers-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run(folder, options)
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, options) -> None:
    from playwright.sync_api import sync_playwright

    vendor = ROOT / "static" / "vendor" / "barcode-detector"
    for name in ("barcode-detector.js", "zxing_reader.wasm"):
        shutil.copy(vendor / name, folder / name)
    (folder / "index.html").write_text(PAGE)
    (folder / "bench.js").write_text(SCRIPT)
    has_jsqr = fetch_jsqr(folder)
    badge, token = render_badge(folder)
    server, base = serve(folder)
    rows, native_note = [], ""
    try:
        with sync_playwright() as playwright:
            for condition in CONDITIONS:
                video = folder / f"{condition}.y4m"
                write_video(video, badge, condition)
                browser = playwright.chromium.launch(
                    executable_path=options.chromium,
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                        f"--use-file-for-fake-video-capture={video}",
                    ],
                )
                try:
                    page = browser.new_context(permissions=["camera"]).new_page()
                    page.goto(base + "/index.html")
                    outcome = page.evaluate("([frames, token]) => runBench(frames, token)", [options.frames, token])
                    native_note = (
                        f"Chromium {browser.version}: BarcodeDetector "
                        f"{'present' if outcome['hasBarcodeDetector'] else 'absent'}"
                    )
                finally:
                    browser.close()
                for reader, result in outcome["results"].items():
                    rows.append(
                        (
                            condition,
                            reader,
                            result["read"],
                            result["tried"],
                            percentile(result["ms"], 0.5),
                            percentile(result["ms"], 0.9),
                        )
                    )
                frame(badge, condition, random.Random(condition)).save(folder / f"{condition}.png")
    finally:
        server.shutdown()
    print(f"QR readers on a badge filmed at {WIDTH}x{HEIGHT}, {options.frames} frames per condition")
    print(native_note + ("" if "present" in native_note else ": no native row"))
    if not has_jsqr:
        print(f"jsQR {JSQR_VERSION}: npm could not fetch it, so it is left out")
    print(f"{'condition':<10} {'reader':<16} {'frames read':>12} {'ms p50':>8} {'ms p90':>8}")
    for condition, reader, read, tried, p50, p90 in rows:
        print(f"{condition:<10} {reader:<16} {f'{read}/{tried}':>12} {p50:>8.1f} {p90:>8.1f}")
    totals: dict[str, list[int]] = {}
    for _condition, reader, read, tried, _p50, _p90 in rows:
        totals.setdefault(reader, [0, 0])
        totals[reader][0] += read
        totals[reader][1] += tried
    print("all       " + "  ".join(f"{reader}: {read}/{tried}" for reader, (read, tried) in totals.items()))


if __name__ == "__main__":
    main()
