"""Shared helpers for the `sonoseg serve` tests: start and stop a server on a temporary root, talk to it over
127.0.0.1, decode and encode PNGs in pure Python, and count checks.

Standard library only. Every server is started with `--port 0`; the first line it prints on stdout,
`SonoSeg serving ROOT at http://127.0.0.1:PORT/`, gives the port. Callers stop it in a `finally`.
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAMPLES = os.path.join(REPO, "samples")
DEFAULT_SERVER = os.path.join(REPO, ".build", "debug", "sonoseg-serve")
DEFAULT_SONOSEG = os.path.join(REPO, ".build", "debug", "sonoseg")
FIRST_LINE = re.compile(r"^SonoSeg serving (.*) at http://127\.0\.0\.1:(\d+)/\s*$")


def sample_files():
    return sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.lower().endswith(".png"))


def server_command(server):
    """`sonoseg-serve ARGS`, or `sonoseg serve ARGS` when given the CLI itself."""
    return [server, "serve"] if os.path.basename(server) == "sonoseg" else [server]


# ---------------------------------------------------------------------------------------------------------------
# Checks


class Checks:
    """Counts passed and failed checks; `summary()` prints `N passed, M failed` and returns the exit status."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.lock = threading.Lock()

    def check(self, name, ok, detail="", quiet=False):
        detail = str(detail)
        if len(detail) > 400:
            detail = detail[:400] + f"… ({len(detail)} chars)"
        with self.lock:
            if ok:
                self.passed += 1
                if not quiet:
                    print(f"  ok    {name}" + (f"  ({detail})" if detail else ""), flush=True)
            else:
                self.failed += 1
                self.failures.append((name, detail))
                print(f"  FAIL  {name}" + (f"  ({detail})" if detail else ""), flush=True)
        return ok

    def summary(self):
        if self.failures:
            print("\nFailures:")
            for name, detail in self.failures:
                print(f"  - {name}: {detail}")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------------------------------------------
# Server process


class Server:
    """One `sonoseg serve` process on a copy of samples/ (or a root the caller prepared)."""

    def __init__(self, binary, args=(), root=None, env=None, prepare=None, startup_timeout=300, cwd=REPO,
                 token=None):
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="sonoserve-test-")
        self.root = root or os.path.join(self.workdir, "root")
        if root is None:
            shutil.copytree(SAMPLES, self.root)
            for f in os.listdir(self.root):  # images only
                if not f.lower().endswith(".png"):
                    os.remove(os.path.join(self.root, f))
        if prepare:
            prepare(self)
        self.token = token
        self.args = list(args)
        if token is not None and "--token" not in self.args:
            self.args += ["--token", token]
        self.env = dict(os.environ, **(env or {}))
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.proc = None
        self.port = None
        self.first_line = None
        self.stdout_lines = []
        self.stderr_lines = []
        self.returncode = None

    # -- lifecycle
    def start(self):
        cmd = server_command(self.binary) + ["--root", self.root, "--port", "0"] + self.args
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.cwd)
        got = threading.Event()

        def read_stdout():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.stdout_lines.append(line)
                if self.first_line is None:
                    self.first_line = line
                    got.set()
            got.set()

        def read_stderr():
            for raw in self.proc.stderr:
                self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

        threading.Thread(target=read_stdout, daemon=True).start()
        threading.Thread(target=read_stderr, daemon=True).start()
        if not got.wait(self.startup_timeout) or self.first_line is None:
            self.kill()
            raise RuntimeError(f"server printed no first line within {self.startup_timeout}s; "
                               f"stderr: {self.stderr_tail()}")
        m = FIRST_LINE.match(self.first_line)
        if not m:
            self.kill()
            raise RuntimeError(f"unexpected first line {self.first_line!r}; stderr: {self.stderr_tail()}")
        self.port = int(m.group(2))
        self.served_root = m.group(1)
        return self

    def stderr_tail(self, n=15):
        return " | ".join(self.stderr_lines[-n:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=120):
        """SIGTERM; returns the exit status (None if it did not exit within `timeout`, then it is killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.returncode = None
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass

    def cleanup(self, keep=False):
        self.kill()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def peak_rss_kib(self):
        """VmHWM of the server process in KiB (None once it exited)."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    # -- HTTP
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method, path, body=None, headers=None, timeout=120, auth=True):
        h = dict(self.auth() if auth else {})
        h.update(headers or {})
        return http_request(self.port, method, path, body, h, timeout)

    def healthz(self, timeout=10):
        try:
            st, _, body = http_request(self.port, "GET", "/healthz", None, {}, timeout)
            return st == 200, st, body
        except Exception as e:  # noqa: BLE001
            return False, None, repr(e).encode()


def http_request(port, method, path, body=None, headers=None, timeout=120):
    """One request over a fresh http.client connection; returns (status, {lower-case header: value}, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class RawResponse:
    def __init__(self, status=None, reason="", headers=None, body=b"", error=None, elapsed=0.0, raw_head=b""):
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.body = body
        self.error = error  # "reset", "timeout", "closed", "refused", "malformed: ..."
        self.elapsed = elapsed
        self.raw_head = raw_head

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception:  # noqa: BLE001
            return None

    def describe(self):
        if self.error:
            return f"no response ({self.error}) after {self.elapsed:.2f}s"
        snippet = self.body[:160]
        reason = self.reason if len(self.reason) < 60 else self.reason[:60] + "…"
        return f"{self.status} {reason} body={snippet!r}"


def raw_request(port, request_bytes, timeout=60, head_request=False, send_chunk=65536):
    """Sends `request_bytes` as is over a new socket (nothing is normalised: NUL bytes, `..`, junk methods all go
    out verbatim) and reads one response (Content-Length, chunked or until close)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    send_error = None
    try:
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return RawResponse(error="refused", elapsed=time.monotonic() - t0)
        try:
            view = memoryview(request_bytes)
            while view:
                n = s.send(view[:send_chunk])
                view = view[n:]
        except (BrokenPipeError, ConnectionResetError) as e:
            send_error = type(e).__name__  # the server may answer early (413) and close; still read the answer
        except socket.timeout:
            return RawResponse(error="timeout (while sending)", elapsed=time.monotonic() - t0)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > 1 << 20:
                    break
        except socket.timeout:
            return RawResponse(error="timeout", elapsed=time.monotonic() - t0, raw_head=buf[:200])
        except ConnectionResetError:
            return RawResponse(error="reset" + (f" (send: {send_error})" if send_error else ""),
                               elapsed=time.monotonic() - t0, raw_head=buf[:200])
        while b"\r\n\r\n" in buf and re.match(rb"^HTTP/1\.[01] 1\d\d", buf):  # 100 Continue and co.
            buf = buf.split(b"\r\n\r\n", 1)[1]
            try:
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except socket.timeout:
                return RawResponse(error="timeout (after 1xx)", elapsed=time.monotonic() - t0)
            except ConnectionResetError:
                return RawResponse(error="reset (after 1xx)", elapsed=time.monotonic() - t0)
        if b"\r\n\r\n" not in buf:
            what = "closed without a response" if not buf else f"malformed head {buf[:120]!r}"
            return RawResponse(error=what + (f" (send: {send_error})" if send_error else ""),
                               elapsed=time.monotonic() - t0, raw_head=buf[:200])
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"^HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            return RawResponse(error=f"malformed status line {lines[0][:100]!r}", elapsed=time.monotonic() - t0)
        status, reason = int(m.group(1)), m.group(2) or ""
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                headers[k] = (headers[k] + ", " + v.strip()) if k in headers else v.strip()
        body = rest
        try:
            if head_request or status in (204, 304) or 100 <= status < 200:
                body = b""
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                body = _read_chunked(s, rest)
            elif "content-length" in headers:
                n = int(headers["content-length"])
                while len(body) < n:
                    chunk = s.recv(65536)
                    if not chunk:
                        return RawResponse(status, reason, headers, body,
                                           error=f"body cut short ({len(body)} of {n} bytes)",
                                           elapsed=time.monotonic() - t0)
                    body += chunk
                body = body[:n]
            else:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
        except socket.timeout:
            return RawResponse(status, reason, headers, body, error="timeout (body)", elapsed=time.monotonic() - t0)
        except ConnectionResetError:
            return RawResponse(status, reason, headers, body, error="reset (body)", elapsed=time.monotonic() - t0)
        return RawResponse(status, reason, headers, body, elapsed=time.monotonic() - t0, raw_head=head[:400])
    finally:
        s.close()


def _read_chunked(s, data):
    out = b""
    while True:
        while b"\r\n" not in data:
            more = s.recv(65536)
            if not more:
                raise ConnectionResetError("chunked body cut short")
            data += more
        line, data = data.split(b"\r\n", 1)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return out
        while len(data) < size + 2:
            more = s.recv(65536)
            if not more:
                raise ConnectionResetError("chunked body cut short")
            data += more
        out += data[:size]
        data = data[size + 2:]


def build_request(method, path, headers=(), body=b"", http_version=b"HTTP/1.1", port=None):
    """Request bytes; `path` may be bytes (sent verbatim). Headers are (name, value) pairs, str or bytes."""
    if isinstance(method, str):
        method = method.encode("latin-1")
    if isinstance(path, str):
        path = path.encode("utf-8")
    lines = [method + b" " + path + b" " + http_version]
    names = set()
    for k, v in headers:
        k = k.encode("latin-1") if isinstance(k, str) else k
        v = v.encode("latin-1") if isinstance(v, str) else v
        names.add(k.lower())
        lines.append(k + b": " + v)
    if b"host" not in names:
        lines.append(b"Host: 127.0.0.1" + (b":%d" % port if port else b""))
    if b"content-length" not in names and b"transfer-encoding" not in names and (body or method in (b"POST", b"PUT")):
        lines.append(b"Content-Length: %d" % len(body))
    if b"connection" not in names:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# ---------------------------------------------------------------------------------------------------------------
# PNG in pure Python


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png_grey(width, height, pixels):
    """8-bit grey PNG from a bytes/bytearray of width*height values."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw += pixels[y * width:(y + 1) * width]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + png_chunk(b"IEND", b""))


class PNGError(Exception):
    pass


def png_chunks(data):
    """[(type, payload)] with CRCs checked; raises PNGError on a truncated or corrupt file."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise PNGError("no PNG signature")
    pos, chunks = 8, []
    while True:
        if pos + 8 > len(data):
            raise PNGError("truncated (no IEND)")
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + n > len(data):
            raise PNGError(f"chunk {kind!r} truncated")
        payload = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + payload) & 0xFFFFFFFF != crc:
            raise PNGError(f"bad CRC in {kind!r}")
        chunks.append((kind, payload))
        pos += 12 + n
        if kind == b"IEND":
            return chunks


def decode_png(data):
    """(width, height, channels, rows) where rows is a list of bytearrays of 8-bit samples (16-bit files keep
    their high byte; palette files give palette indices mapped to the palette's first channel). Raises PNGError."""
    chunks = png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise PNGError("IHDR is not first")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if interlace:
        raise PNGError("interlaced PNGs are not decoded here")
    idat = b"".join(p for k, p in chunks if k == b"IDAT")
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        raise PNGError(f"zlib: {e}")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    bits = depth * channels
    stride = (w * bits + 7) // 8
    bpp = max(1, bits // 8)
    if len(raw) < h * (stride + 1):
        raise PNGError(f"IDAT holds {len(raw)} bytes, {h * (stride + 1)} needed")
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        elif f != 0:
            raise PNGError(f"bad filter {f} in row {y}")
        prev = line
        if depth == 8:
            out = line
        elif depth == 16:
            out = line[0::2]
        else:  # 1, 2, 4 bits
            out = bytearray()
            per = 8 // depth
            mask = (1 << depth) - 1
            for i in range(w * channels):
                byte = line[i // per]
                v = (byte >> (8 - depth * (i % per + 1))) & mask
                out.append(v if ctype == 3 else v * 255 // mask)
        rows.append(out)
    if ctype == 3:
        plte = next((p for k, p in chunks if k == b"PLTE"), None)
        if plte is None:
            raise PNGError("palette image without PLTE")
        rows = [bytearray(plte[3 * i] for i in r) for r in rows]
        channels = 1
    return w, h, channels, rows


def grey_pixels(data):
    """(w, h, bytearray of w*h first-channel values)."""
    w, h, c, rows = decode_png(data)
    out = bytearray()
    for r in rows:
        out += r[0::c] if c > 1 else r
    return w, h, out


def resize_grey(w, h, pixels, nw, nh):
    """Bilinear resize of 8-bit grey pixels."""
    out = bytearray(nw * nh)
    for y in range(nh):
        sy = (y + 0.5) * h / nh - 0.5
        y0 = min(max(int(sy // 1), 0), h - 1)
        y1 = min(y0 + 1, h - 1)
        fy = min(max(sy - y0, 0.0), 1.0)
        for x in range(nw):
            sx = (x + 0.5) * w / nw - 0.5
            x0 = min(max(int(sx // 1), 0), w - 1)
            x1 = min(x0 + 1, w - 1)
            fx = min(max(sx - x0, 0.0), 1.0)
            a = pixels[y0 * w + x0] * (1 - fx) + pixels[y0 * w + x1] * fx
            b = pixels[y1 * w + x0] * (1 - fx) + pixels[y1 * w + x1] * fx
            out[y * nw + x] = int(round(a * (1 - fy) + b * fy))
    return out


def b64(data):
    return base64.b64encode(data).decode("ascii")


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def list_tree(folder):
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            out.append(os.path.relpath(os.path.join(dirpath, d), folder) + "/")
        for f in filenames:
            p = os.path.join(dirpath, f)
            try:
                size = os.lstat(p).st_size
            except OSError:
                size = -1
            out.append(f"{os.path.relpath(p, folder)} ({size} B)")
    return sorted(out)


def common_args(parser, sonoseg=False):
    parser.add_argument("--server", default=DEFAULT_SERVER, help="the sonoseg-serve binary")
    if sonoseg:
        parser.add_argument("--sonoseg", default=DEFAULT_SONOSEG, help="the sonoseg CLI binary")
    parser.add_argument("--keep", action="store_true", help="keep the temporary roots")
    return parser


def log(msg):
    print(msg, flush=True)
    sys.stdout.flush()
