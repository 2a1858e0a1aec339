#!/usr/bin/env python3
"""Browser test of the reading room (`sonoseg serve`): the page in Sources/SonoServe/Web driven by headless Chromium.

    python3 Tests/browser/test_workstation.py --server .build/debug/sonoseg-serve [--screenshots] [--web DIR]

Run 1 copies samples/ into a fresh root, starts the server (`--root ROOT --port 0`), uploads a sample through the
page's file picker, opens it, reads the diagnosis, paints a stroke away from the lesion, saves, and checks on disk
that reviewed/images, reviewed/masks and reviewed/records hold the correction (the saved mask differs from the
model's, the record says corrected); then the keyboard (next/previous, outline, heat map, Escape), sorting and
filtering. Run 2 starts the server with `--token secret` and checks that the page asks for the token and then shows
the worklist. Each run ends with SIGTERM, which must stop the server with status 0 within 10 s.

Needs Python 3, selenium (pip install selenium), chromium and chromium-driver (Debian packages). PNGs are decoded
with the small pure-Python reader below, so nothing else is needed. The last line printed is `N passed, M failed`;
the exit status is non-zero when anything failed.
"""
import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(REPO, "samples")
SCREENSHOTS = os.path.join(REPO, "docs", "screenshots")

PASSED = 0
FAILED = 0


def check(name, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"  ok    {name}" + (f": {detail}" if detail else ""), flush=True)
    else:
        FAILED += 1
        print(f"  FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


# ------------------------------------------------------------------------------------------------------------
# A small PNG reader (non-interlaced; grey, grey+alpha, RGB, RGBA, palette; 1-16 bits): enough for the masks.
def decode_png(data):
    """Returns (width, height, channels, pixels) with pixels a list of rows, each a list of channel tuples (8-bit)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, palette = 8, [], None
    width = height = depth = ctype = interlace = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = [tuple(body[i:i + 3]) for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if interlace:
        raise ValueError("interlaced PNG not supported by this reader")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    bits = depth * channels
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    raw = zlib.decompress(b"".join(idat))
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    pixels = []
    for line in rows:
        if depth == 8:
            row = [tuple(line[x * channels:(x + 1) * channels]) for x in range(width)]
        elif depth == 16:
            row = [tuple(line[(x * channels + k) * 2] for k in range(channels)) for x in range(width)]
        else:  # 1, 2, 4 bits: grey or palette
            per = 8 // depth
            scale = 255 // ((1 << depth) - 1) if ctype != 3 else 1
            row = []
            for x in range(width):
                byte = line[x // per]
                v = (byte >> (8 - depth * (x % per + 1))) & ((1 << depth) - 1)
                row.append((v * scale,))
        if ctype == 3:
            row = [palette[p[0]] for p in row]
            channels_out = 3
        else:
            channels_out = channels
        pixels.append(row)
    return width, height, (3 if ctype == 3 else channels), pixels


def png_binary(data):
    """(width, height, bytearray of 0/1): lesion where any colour channel is above half scale (alpha ignored)."""
    w, h, ch, pixels = decode_png(data)
    colour = 1 if ch in (1, 2) else 3
    out = bytearray(w * h)
    for y, row in enumerate(pixels):
        for x, p in enumerate(row):
            out[y * w + x] = 1 if max(p[:colour]) > 127 else 0
    return w, h, out


# ------------------------------------------------------------------------------------------------------------
# The server
class Server:
    def __init__(self, binary, root, extra, log_path):
        self.log = open(log_path, "w")
        self.lines = []
        cmd = [binary, "--root", root, "--port", "0"] + extra
        print("  $ " + " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        first = []
        ready = threading.Event()

        def drain():
            for line in self.proc.stdout:
                self.lines.append(line)
                self.log.write(line)
                self.log.flush()
                if not first:
                    first.append(line)
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(180) or not first:
            raise RuntimeError("the server printed nothing on stdout (log: %s)" % log_path)
        self.first_line = first[0].rstrip("\n")
        m = re.search(r"https?://[^\s]+?/?(?=\s|$)", self.first_line)
        if not m:
            raise RuntimeError("no URL in the server's first line: %r" % self.first_line)
        self.url = m.group(0).rstrip("/") + "/"

    def wait_healthy(self, timeout=180):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited with %s" % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.url + "healthz", timeout=5) as r:
                    if r.status == 200:
                        return json.loads(r.read() or b"{}")
            except Exception as e:  # noqa: BLE001 - retried until the deadline
                last = e
            time.sleep(0.3)
        raise RuntimeError("GET /healthz never answered 200 (%s)" % last)

    def stop(self):
        """SIGTERM; returns (exit status or None, seconds)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.time() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.log.close()


def http(server, path, token=None, method="GET", body=None, headers=None):
    req = urllib.request.Request(server.url + path.lstrip("/"), data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


# ------------------------------------------------------------------------------------------------------------
# The browser
def make_driver():
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--force-device-scale-factor=1", "--hide-scrollbars", "--disable-gpu"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            opts.binary_location = path
            break
    driver_path = shutil.which("chromedriver")
    service = webdriver.ChromeService(executable_path=driver_path) if driver_path else webdriver.ChromeService()
    d = webdriver.Chrome(options=opts, service=service)
    d.set_window_size(1400, 900)
    # make the page itself 1400 × 900 (the window's frame takes some of the window's size)
    iw, ih = d.execute_script("return [window.innerWidth, window.innerHeight]")
    if (iw, ih) != (1400, 900):
        d.set_window_size(1400 + 1400 - iw, 900 + 900 - ih)
    return d


def wait_for(desc, fn, timeout=60, interval=0.2):
    """Polls fn until it returns something truthy; returns it, or raises naming desc."""
    end = time.time() + timeout
    last_exc = None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - stale elements and the like are retried
            last_exc = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {desc}" + (f" ({last_exc})" if last_exc else ""))


def console_problems(driver, allow=()):
    try:
        logs = driver.get_log("browser")
    except Exception:  # noqa: BLE001 - not every driver keeps logs
        return []
    bad = []
    for e in logs:
        msg = e.get("message", "")
        if e.get("level") != "SEVERE" and "Content Security Policy" not in msg:
            continue
        if any(a in msg for a in allow):
            continue
        bad.append(msg)
    return bad


def shot(driver, args, name):
    if not args.screenshots:
        return
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name)
    driver.save_screenshot(path)
    print(f"  screenshot {os.path.relpath(path, REPO)}", flush=True)


def visible(driver, css):
    from selenium.webdriver.common.by import By

    els = driver.find_elements(By.CSS_SELECTOR, css)
    return els[0] if els and els[0].is_displayed() else None


def text_of(driver, css):
    from selenium.webdriver.common.by import By

    els = driver.find_elements(By.CSS_SELECTOR, css)
    return els[0].text if els else ""


def far_point(mask, w, h):
    """An image point far from every lesion pixel of the mask, away from the edges."""
    ys = [i // w for i in range(len(mask)) if mask[i]]
    xs = [i % w for i in range(len(mask)) if mask[i]]
    best, best_d = (w * 0.2, h * 0.8), -1
    for gy in range(2, 9):
        for gx in range(2, 9):
            x, y = w * gx / 10.0, h * gy / 10.0
            if xs:
                # distance to the lesion's bounding box
                dx = max(min(xs) - x, 0, x - max(xs))
                dy = max(min(ys) - y, 0, y - max(ys))
                d = (dx * dx + dy * dy) ** 0.5
            else:
                d = 1e9 - abs(x - w / 2) - abs(y - h / 2)
            if d > best_d:
                best, best_d = (x, y), d
    return best, best_d


# ------------------------------------------------------------------------------------------------------------
def make_root(tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    for f in sorted(os.listdir(SAMPLES)):
        if f.lower().endswith(".png"):
            shutil.copy(os.path.join(SAMPLES, f), os.path.join(root, f))
    # a run folder with a report: listed under `reports`, its pictures not in the worklist
    run = os.path.join(root, "runs", "demo")
    os.makedirs(run)
    with open(os.path.join(run, "summary.json"), "w") as f:
        f.write("[]\n")
    with open(os.path.join(run, "report.html"), "w") as f:
        f.write("<!doctype html><title>demo report</title><h1>demo report</h1><img src=\"pic.png\" alt=\"\">\n")
    shutil.copy(os.path.join(SAMPLES, "busi-benign-18.png"), os.path.join(run, "pic.png"))
    return root


def run_main(args, tmp):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    print("run 1: worklist, upload, viewer, correction, keyboard", flush=True)
    root = make_root(tmp)
    n_samples = len([f for f in os.listdir(root) if f.endswith(".png")])
    extra = ["--web", args.web] if args.web else []
    server = Server(args.server, root, extra, os.path.join(tmp, "server1.log"))
    driver = None
    try:
        check("the server's first line names its URL", server.url.startswith("http"), server.first_line)
        server.wait_healthy()
        check("GET /healthz answers 200", True)
        status, _, headers = http(server, "/")
        csp = headers.get("Content-Security-Policy", "")
        check("GET / answers 200 with a Content-Security-Policy", status == 200 and "script-src" in csp, csp or "no CSP header")

        driver = make_driver()
        driver.get(server.url)
        rows = wait_for("the worklist's rows", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item[data-id]")) >= n_samples, 120)
        check("the worklist lists the samples", rows, f"{len(driver.find_elements(By.CSS_SELECTOR, '#worklist tr.item'))} rows")
        thumbs = wait_for("thumbnails", lambda: [i for i in driver.find_elements(By.CSS_SELECTOR, "#worklist img.thumb")
                                                 if i.get_attribute("src").startswith("blob:")
                                                 and driver.execute_script("return arguments[0].naturalWidth", i) > 0], 60)
        check("thumbnails are shown from blob: URLs", len(thumbs) >= 1, f"{len(thumbs)} shown")
        links = driver.find_elements(By.CSS_SELECTOR, "#reports a[href]")
        hrefs = [a.get_attribute("href") for a in links]
        check("the worklist links to the reports", any(h.endswith("/files/runs/demo/report.html") for h in hrefs), str(hrefs))
        if hrefs:
            code, body, _ = http(server, hrefs[0][len(server.url) - 1:])
            check("the report link answers the report", code == 200 and b"demo report" in body, f"status {code}")

        # Upload a sample under a new name through the file picker.
        name = f"upload-test-{os.getpid()}"
        upload = os.path.join(tmp, name + ".png")
        shutil.copy(os.path.join(SAMPLES, "busi-benign-18.png"), upload)
        driver.find_element(By.ID, "upload-input").send_keys(upload)

        def upload_row():
            for tr in driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item[data-id]"):
                if name in tr.text:
                    return tr.get_attribute("data-id")
            return None

        item_id = wait_for("the uploaded image's row", upload_row, 60)
        check("the uploaded image appears in the worklist", bool(item_id), f"id {item_id}")
        # Wait for the whole list to be segmented, for a calm screenshot (the page polls while any is pending).
        try:
            wait_for("every row segmented", lambda: not [td for td in driver.find_elements(By.CSS_SELECTOR, "#worklist .pending")], 240, 1)
            check("the worklist fills in the diagnosis once segmented", True)
        except TimeoutError as e:
            check("the worklist fills in the diagnosis once segmented", False, str(e))

        # Sorting and filtering
        def column(i):
            return [tr.find_elements(By.TAG_NAME, "td")[i].text.split("\n")[0] for tr in driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item")]

        th = driver.find_element(By.CSS_SELECTOR, "#worklist th[data-sort='input']")
        before = column(1)
        th.click()  # already sorted by it: the click reverses
        after = column(1)
        check("clicking a column header sorts by it", "sorted-desc" in th.get_attribute("class") and after == sorted(before, reverse=True) and before != after,
              f"{before[:2]}… → {after[:2]}…")
        th.click()
        driver.find_element(By.CSS_SELECTOR, "#worklist th[data-sort='lesion_probability']").click()
        check("the probability column sorts too", "sorted-" in driver.find_element(By.CSS_SELECTOR, "#worklist th[data-sort='lesion_probability']").get_attribute("class"),
              " ".join(column(3)))
        th.click()
        wait_for("the list sorted by file", lambda: "sorted-asc" in th.get_attribute("class"), 5)
        driver.find_element(By.ID, "filter-text").send_keys(name)
        n = wait_for("the filter", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item")) == 1, 10)
        check("the text filter narrows the list", n)
        driver.find_element(By.ID, "filter-text").clear()
        driver.find_element(By.ID, "filter-text").send_keys(" ")
        driver.find_element(By.ID, "filter-text").send_keys(Keys.BACKSPACE)
        wait_for("the unfiltered list", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item")) == n_samples + 1, 10)

        # Open the uploaded image.
        driver.find_element(By.CSS_SELECTOR, f"#worklist tr.item[data-id='{item_id}']").click()
        wait_for("the viewer", lambda: visible(driver, "#viewer"), 20)
        canvas = driver.find_element(By.ID, "scan-canvas")
        st = wait_for("the scan and its mask", lambda: canvas.get_attribute("data-state") in ("ready", "error") and canvas.get_attribute("data-state"), 240)
        check("the viewer opens the image", st == "ready", st + (": " + text_of(driver, "#stage-message") if st != "ready" else ""))
        if st != "ready":
            raise RuntimeError("the viewer could not open the image")
        segs = int(canvas.get_attribute("data-outline-segments") or 0)
        check("the outline is drawn", segs > 0, f"{segs} edge runs, mask area {canvas.get_attribute('data-mask-area')} px")
        diag = wait_for("the diagnosis", lambda: (lambda t: t if "Research use" in t and re.search(r"\d\.\d\d", t) else None)(text_of(driver, "#diagnosis")), 30)
        check("the diagnosis panel shows the probabilities and the research-use line", bool(diag), " | ".join(diag.splitlines()))
        title = text_of(driver, "#item-title")
        check("the title is the item's input path", name in title, title)
        meas = text_of(driver, "#measurements")
        check("the measurements panel shows the axes", "Long axis" in meas or "No lesion" in meas, " | ".join(meas.splitlines()))

        # The model's mask, to paint away from the lesion and compare with the saved one later.
        code, detail_body, _ = http(server, f"/v1/items/{item_id}")
        detail = json.loads(detail_body)
        code, model_png, _ = http(server, f"/v1/items/{item_id}/mask?source=model")
        check("GET /v1/items/{id}/mask?source=model answers a PNG", code == 200 and model_png[:4] == b"\x89PNG", f"status {code}")
        mw, mh, model_mask = png_binary(model_png)
        check("the model's mask has the image's size", (mw, mh) == (detail.get("width") or mw, detail.get("height") or mh), f"{mw}×{mh}")
        (px, py), dist = far_point(model_mask, mw, mh)
        s, tx, ty = (float(v) for v in canvas.get_attribute("data-transform").split())
        cw, ch = canvas.size["width"], canvas.size["height"]
        cx, cy = tx + px * s, ty + py * s
        area_before = int(canvas.get_attribute("data-mask-area"))
        measured_before = int(canvas.get_attribute("data-measured") or 0)

        driver.find_element(By.ID, "tool-brush").click()
        check("the brush tool is selected", "active" in driver.find_element(By.ID, "tool-brush").get_attribute("class"))
        size0 = int(driver.find_element(By.ID, "brush-size").get_attribute("value"))
        ActionChains(driver).send_keys("]]]").perform()
        size1 = int(driver.find_element(By.ID, "brush-size").get_attribute("value"))
        check("] makes the brush larger", size1 > size0, f"{size0} → {size1} px")
        chain = ActionChains(driver)
        chain.move_to_element_with_offset(canvas, int(cx - cw / 2), int(cy - ch / 2)).click_and_hold()
        for _ in range(6):
            chain.move_by_offset(8, 2)
        chain.release().perform()
        area_after = int(wait_for("the painted stroke", lambda: int(canvas.get_attribute("data-mask-area")) > area_before and canvas.get_attribute("data-mask-area"), 10))
        check("a brush stroke adds to the mask", area_after > area_before, f"{area_before} → {area_after} px at image ({px:.0f}, {py:.0f}), {dist:.0f} px from the lesion")
        measured = wait_for("POST /measure after the stroke", lambda: int(canvas.get_attribute("data-measured") or 0) > measured_before or "not measured" in text_of(driver, "#measure-state"), 60)
        ms = text_of(driver, "#measure-state")
        check("the stroke is measured (POST /v1/items/{id}/measure)", "not measured" not in ms, ms or " | ".join(text_of(driver, "#measurements").splitlines()))
        shot(driver, args, "serve-correction.png")

        # Undo and redo, with the buttons and the keys
        area = lambda: int(canvas.get_attribute("data-mask-area"))  # noqa: E731
        driver.find_element(By.ID, "undo").click()
        check("Undo restores the mask", wait_for("undo", lambda: area() == area_before, 5))
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
        check("Ctrl+Y paints the stroke again", wait_for("redo", lambda: area() == area_after, 5))
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        check("Ctrl+Z undoes it", wait_for("undo", lambda: area() == area_before, 5))
        driver.find_element(By.ID, "redo").click()
        check("Redo paints it again", wait_for("redo", lambda: area() == area_after, 5))

        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        warn = wait_for("the unsaved-changes warning", lambda: (lambda t: t if "repeat" in t else None)(text_of(driver, "#status-line")), 5)
        check("leaving with unsaved changes asks for a second press", "repeat" in warn and visible(driver, "#viewer") is not None, warn)
        reader = driver.find_element(By.ID, "reader-name")
        reader.clear()
        reader.send_keys("Test Reader")

        driver.find_element(By.ID, "save").click()
        saved = wait_for("the save", lambda: (lambda t: t if t.startswith("saved") or "not saved" in t else None)(text_of(driver, "#status-line")), 60)
        check("Save reports the new status", "saved: corrected" in saved, saved)

        # On disk
        stem = detail.get("stem") or name
        review_name = stem.replace("/", "__")
        files = {k: os.path.join(root, "reviewed", k, review_name + ext) for k, ext in (("images", ".png"), ("masks", ".png"), ("records", ".json"))}
        for k, p in files.items():
            check(f"reviewed/{k}/{review_name}{os.path.splitext(p)[1]} exists", os.path.isfile(p), os.path.relpath(p, root))
        if os.path.isfile(files["masks"]):
            with open(files["masks"], "rb") as f:
                sw, sh, saved_mask = png_binary(f.read())
            diff = sum(1 for a, b in zip(saved_mask, model_mask) if a != b) if (sw, sh) == (mw, mh) else -1
            check("the saved mask has the image's size", (sw, sh) == (mw, mh), f"{sw}×{sh}")
            check("the saved mask differs from the model's", diff > 0, f"{diff} pixels differ")
            ipx, ipy = int(px), int(py)
            check("the saved mask holds the painted stroke", (sw, sh) == (mw, mh) and saved_mask[ipy * sw + ipx] == 1 and model_mask[ipy * mw + ipx] == 0,
                  f"pixel ({ipx}, {ipy})")
        if os.path.isfile(files["records"]):
            with open(files["records"]) as f:
                rec = json.load(f)
            check("the record says corrected", rec.get("status") == "corrected", json.dumps({k: rec.get(k) for k in ("status", "reader", "changed_pixels", "mask_path")}))
            check("the record names the reader", rec.get("reader") == "Test Reader", str(rec.get("reader")))
        code, wl, _ = http(server, "/v1/worklist")
        st = [it.get("status") for it in json.loads(wl).get("items", []) if it.get("id") == item_id]
        check("the worklist says corrected", st == ["corrected"], str(st))

        # Keyboard: next and previous, outline, heat map
        # From the last image of the list, ArrowLeft first and ArrowRight back; otherwise the other way round.
        pos = re.match(r"(\d+) / (\d+)", text_of(driver, "#item-position"))
        last = bool(pos) and pos.group(1) == pos.group(2)
        away, back = (Keys.ARROW_LEFT, Keys.ARROW_RIGHT) if last else (Keys.ARROW_RIGHT, Keys.ARROW_LEFT)
        away_name, back_name = ("ArrowLeft", "ArrowRight") if last else ("ArrowRight", "ArrowLeft")
        ActionChains(driver).send_keys(away).perform()
        t2 = wait_for("the neighbouring image", lambda: (lambda t: t if t and t != title else None)(text_of(driver, "#item-title")), 30)
        check(f"{away_name} opens the {'previous' if last else 'next'} image", t2 != title, f"{title} → {t2}")
        wait_for("the neighbouring image to load", lambda: canvas.get_attribute("data-state") in ("ready", "error"), 240)
        # a calm viewer screenshot: a sample with its outline, calipers and heat map
        if args.screenshots:
            driver.find_element(By.ID, "tool-pan").click()
            ActionChains(driver).send_keys("h").perform()
            wait_for("the heat map", lambda: visible(driver, "#heat-legend"), 60)
            time.sleep(0.3)
            shot(driver, args, "serve-viewer.png")
            ActionChains(driver).send_keys("h").perform()
        ActionChains(driver).send_keys(back).perform()
        t3 = wait_for("the image again", lambda: (lambda t: t if t == title else None)(text_of(driver, "#item-title")), 30)
        check(f"{back_name} goes back", t3 == title, t3)
        wait_for("the image to load", lambda: canvas.get_attribute("data-state") == "ready", 240)
        ActionChains(driver).send_keys("o").perform()
        off = not driver.find_element(By.ID, "show-outline").is_selected()
        ActionChains(driver).send_keys("o").perform()
        on = driver.find_element(By.ID, "show-outline").is_selected()
        check("o toggles the outline", off and on)
        ActionChains(driver).send_keys("h").perform()
        legend = wait_for("the heat map", lambda: visible(driver, "#heat-legend"), 60)
        check("h shows the heat map", bool(legend))
        ActionChains(driver).send_keys("h").perform()
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        wait_for("the worklist", lambda: visible(driver, "#worklist"), 10)
        badge = wait_for("the corrected badge", lambda: "corrected" in driver.find_element(By.CSS_SELECTOR, f"#worklist tr.item[data-id='{item_id}']").text, 10)
        check("Escape returns to the worklist, which shows the correction", badge)

        # Accept (the a key) on an image left as the model drew it: saved as reviewed, and the next image opens.
        first = driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item[data-id]")[0]
        first_id = first.get_attribute("data-id")
        first.click()
        wait_for("the first image", lambda: visible(driver, "#viewer") and canvas.get_attribute("data-state") == "ready", 240)
        first_title = text_of(driver, "#item-title")
        ActionChains(driver).send_keys("a").perform()
        wait_for("the next image after Accept", lambda: text_of(driver, "#item-title") != first_title, 60)
        line = wait_for("the saved line", lambda: (lambda t: t if "saved" in t else None)(text_of(driver, "#status-line")), 10)
        check("a accepts the outline (reviewed) and opens the next image", "saved: reviewed" in line, line)
        code, d1, _ = http(server, f"/v1/items/{first_id}")
        d1 = json.loads(d1)
        rec_path = os.path.join(root, "reviewed", "records", d1.get("stem", "").replace("/", "__") + ".json")
        rec1 = json.load(open(rec_path)) if os.path.isfile(rec_path) else {}
        check("the accepted record says reviewed, nothing changed", rec1.get("status") == "reviewed" and rec1.get("changed_pixels", 0) == 0,
              json.dumps({k: rec1.get(k) for k in ("status", "changed_pixels")}))
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        wait_for("the worklist", lambda: visible(driver, "#worklist"), 10)
        wait_for("the reviewed badge", lambda: "reviewed" in driver.find_element(By.CSS_SELECTOR, f"#worklist tr.item[data-id='{first_id}']").text, 10)
        shot(driver, args, "serve-worklist.png")
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("corrected")
        n = wait_for("the status filter", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item")) == 1, 10)
        check("the status filter narrows the list", n)

        problems = console_problems(driver)
        check("no errors or CSP violations in the browser console", not problems, "; ".join(problems)[:600])
    finally:
        if driver:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        try:
            rc, secs = server.stop()
            check("SIGTERM stops the server with status 0 within 10 s", rc == 0, f"status {rc} after {secs:.1f} s")
        finally:
            server.kill()


def run_token(args, tmp):
    from selenium.webdriver.common.by import By

    print("run 2: --token", flush=True)
    root = make_root(os.path.join(tmp, "t"))
    extra = ["--token", "secret"] + (["--web", args.web] if args.web else [])
    server = Server(args.server, root, extra, os.path.join(tmp, "server2.log"))
    driver = None
    try:
        server.wait_healthy()
        code, _, _ = http(server, "/v1/worklist")
        check("GET /v1/worklist without the token answers 401", code == 401, f"status {code}")
        code, _, _ = http(server, "/v1/worklist", token="secret")
        check("GET /v1/worklist with the token answers 200", code == 200, f"status {code}")
        driver = make_driver()
        driver.get(server.url)
        form = wait_for("the token form", lambda: visible(driver, "#token-form"), 30)
        check("the page asks for the token", bool(form))
        check("the worklist stays hidden", not visible(driver, "#worklist"))
        box = driver.find_element(By.CSS_SELECTOR, "#token-form input[type=password]")
        box.send_keys("wrong")
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        err = wait_for("the refusal", lambda: visible(driver, "#token-form") and text_of(driver, "#token-error"), 30)
        check("a wrong token is refused", bool(err), err)
        box = driver.find_element(By.CSS_SELECTOR, "#token-form input[type=password]")
        box.clear()
        box.send_keys("secret")
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        rows = wait_for("the worklist", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#worklist tr.item[data-id]")) >= 5, 60)
        check("with the token the worklist appears", rows)
        thumbs = wait_for("thumbnails", lambda: [i for i in driver.find_elements(By.CSS_SELECTOR, "#worklist img.thumb")
                                                 if driver.execute_script("return arguments[0].naturalWidth", i) > 0], 60)
        check("thumbnails load with the token", len(thumbs) >= 1)
        problems = console_problems(driver, allow=("401",))
        check("no other errors in the browser console", not problems, "; ".join(problems)[:600])
    finally:
        if driver:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        try:
            rc, secs = server.stop()
            check("SIGTERM stops the server with status 0 within 10 s", rc == 0, f"status {rc} after {secs:.1f} s")
        finally:
            server.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the sonoseg-serve binary (or any command taking --root and --port)")
    ap.add_argument("--screenshots", action="store_true", help="write docs/screenshots/serve-*.png")
    ap.add_argument("--web", help="pass --web DIR to the server (serve the page from the checkout while developing)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    if not os.path.isfile(args.server) or not os.access(args.server, os.X_OK):
        print(f"no executable at {args.server}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("selenium is missing: pip install selenium (and apt-get install chromium chromium-driver)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="sonoseg-browser-")
    try:
        for run in (run_main, run_token):
            try:
                run(args, tmp)
            except Exception as e:  # noqa: BLE001 - a failed step fails the run, the next run still goes
                check(f"{run.__name__} completed", False, f"{type(e).__name__}: {e}")
                traceback.print_exc()
                for log in ("server1.log", "server2.log"):
                    p = os.path.join(tmp, log)
                    if os.path.exists(p):
                        with open(p) as f:
                            tail = f.read()[-2000:]
                        if tail.strip():
                            print(f"--- {log} (tail)\n{tail}", flush=True)
    finally:
        if args.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
