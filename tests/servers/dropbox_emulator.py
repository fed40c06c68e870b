#!/usr/bin/python3
"""dropbox_emulator.py: a Dropbox API v2 server for tests, on 127.0.0.1.

Written from Dropbox's HTTP documentation (developers/documentation/http),
covering what a backup client uses, with the same URLs, argument styles,
result shapes and error shapes:

  POST /oauth2/token                       grant_type=refresh_token and
                                           authorization_code (+ PKCE S256)
  POST /2/files/upload                     <= 150 MiB, UploadArg
  POST /2/files/upload_session/start       UploadSessionStartArg
  POST /2/files/upload_session/append_v2   cursor {session_id, offset}
  POST /2/files/upload_session/finish      cursor + commit
  POST /2/files/download                   result in Dropbox-API-Result
  POST /2/files/list_folder, .../continue  root is "", cursors, has_more
  POST /2/files/get_metadata, /2/files/delete_v2, /2/files/create_folder_v2

RPC endpoints take a JSON body (Content-Type: application/json); content
endpoints take their argument as JSON in the Dropbox-API-Arg header, which
must be ASCII (non-ASCII escaped as \\uXXXX).  Errors: 400 plain text for
bad input, 401 JSON AuthError (invalid_access_token, expired_access_token),
409 JSON {"error_summary", "error": union with ".tag"}, 429 with
Retry-After and a JSON RateLimitError, 5xx plain text.  content_hash is
SHA-256 over the concatenated SHA-256 digests of each 4 MiB block.  Paths
are case-insensitive and case-preserving.  With --app-folder NAME the
client's root is /Apps/NAME of the account (an "App folder" app): what it
sees, path_display included, is relative to that folder.

Not the real service: no rate limit of its own, no revisions or sharing,
no longpoll.  For tests only: never expose it beyond loopback.

Test hooks (no authentication; loopback only):
  GET  /oauth2/authorize?client_id=..&code_challenge=..   the person
       allows the app: answers the code to paste (text/plain)
  POST /_emu/fault  JSON, each optional:
       {"expire_tokens": true}           every access token so far expires
       {"rate_limit": {"count": N, "retry_after": S, "json": true}}
                                         the next N API calls get 429
       {"corrupt_upload": N}             the next N uploads are stored with
                                         one byte changed (content_hash is
                                         that of what is stored)
       {"fail": {"count": N, "status": 503}}  the next N API calls fail
       {"drop": N}                       the next N API calls get their
                                         connection closed, no answer
  GET  /_emu/stats  JSON: calls per route, refreshes, 429s sent, and the
       time of every API call (route, status, time)

Usage: dropbox_emulator.py --root DIR --cert PEM --key PEM
       [--port N] [--port-file F] --app-key K [--app-secret S]
       [--refresh-token R]... [--access-token T]... [--app-folder NAME]
       [--page-size N] [--token-lifetime SECONDS]
Standard library only; run with /usr/bin/python3.
"""

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import shutil
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse

BLOCK = 4 * 1024 * 1024
UPLOAD_MAX = 150 * 1024 * 1024
LOCK = threading.RLock()


def content_hash_file(path):
    """Dropbox's content_hash of a file."""
    outer = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(BLOCK)
            if not block:
                break
            outer.update(hashlib.sha256(block).digest())
    return outer.hexdigest()


def content_hash_bytes(data):
    outer = hashlib.sha256()
    for i in range(0, len(data), BLOCK):
        outer.update(hashlib.sha256(data[i:i + BLOCK]).digest())
    return outer.hexdigest()


def iso(t):
    return datetime.datetime.utcfromtimestamp(int(t)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class ClientGone(Exception):
    """The client closed the connection before its request body ended."""


class ApiError(Exception):
    """An error answer: status, and either text or a JSON object."""

    def __init__(self, status, text=None, obj=None, headers=None):
        super().__init__(status)
        self.status = status
        self.text = text
        self.obj = obj
        self.headers = headers or {}


def route_error(tags, extra=None):
    """409 with an error union built from a tag path.

    tags ["path", "not_found"] gives
    {".tag": "path", "path": {".tag": "not_found"}}; extra is merged into
    the innermost union (struct members, as Stone writes them: flat).
    """
    inner = {".tag": tags[-1]}
    if extra:
        inner.update(extra)
    for t in reversed(tags[:-1]):
        inner = {".tag": t, t: inner}
    return ApiError(409, obj={"error_summary": "/".join(tags) + "/...",
                              "error": inner})


def bad_input(route, msg):
    return ApiError(400, text='Error in call to API function "%s": %s' %
                    (route, msg))


class State:
    def __init__(self, args):
        self.args = args
        self.account_root = os.path.abspath(args.root)
        if args.app_folder:
            self.base = os.path.join(self.account_root, "Apps",
                                     args.app_folder)
        else:
            self.base = self.account_root
        os.makedirs(self.base, exist_ok=True)
        self.sessions_dir = tempfile.mkdtemp(prefix="dbx-emu-sessions-")
        self.tokens = {}            # access token -> {"expired": bool}
        for t in args.access_token:
            self.tokens[t] = {"expired": False}
        self.refresh_tokens = set(args.refresh_token)
        self.codes = {}             # code -> (client_id, challenge)
        self.sessions = {}          # id -> {"path", "offset", "closed"}
        self.cursors = {}           # id -> {"entries", "pos"}
        self.ids = {}               # path_lower -> id
        self.faults = {"rate_limit": None, "corrupt_upload": 0,
                       "fail": None, "drop": 0}
        self.stats = {"calls": {}, "refreshes": 0, "rate_limited": 0,
                      "events": []}

    # ---- paths -------------------------------------------------------

    def check_path(self, route, path, root_ok=False):
        """Validate a client path; return its components."""
        if not isinstance(path, str):
            raise bad_input(route, "request body: path: expected string")
        if path == "":
            if root_ok:
                return []
            raise bad_input(route, "request body: path: The root folder "
                            "is unsupported.")
        if path == "/" and root_ok:
            raise bad_input(route, 'request body: path: Specify the root '
                            'folder as an empty string rather than as "/".')
        if path.startswith("id:") or path.startswith("ns:"):
            raise route_error(["path", "not_found"])
        if not path.startswith("/"):
            raise bad_input(route, "request body: path: '%s' did not "
                            "match pattern '(/(.|[\\r\\n])*)|(ns:[0-9]+"
                            "(/.*)?)|(id:.*)'" % path)
        parts = path[1:].split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise route_error(["path", "malformed_path"])
        return parts

    def resolve(self, parts):
        """Local path and display path for components, case-insensitive.

        Components that exist take their stored case; the rest keep the
        client's.
        """
        local = self.base
        display = []
        for p in parts:
            found = None
            if os.path.isdir(local):
                for e in os.listdir(local):
                    if e.lower() == p.lower():
                        found = e
                        break
            local = os.path.join(local, found or p)
            display.append(found or p)
        return local, "/" + "/".join(display)

    def file_id(self, display):
        key = display.lower()
        if key not in self.ids:
            self.ids[key] = "id:" + secrets.token_urlsafe(16)
        return self.ids[key]

    def meta(self, local, display, tag=True):
        name = display.rsplit("/", 1)[1]
        if os.path.isdir(local):
            m = {"name": name, "id": self.file_id(display),
                 "path_lower": display.lower(), "path_display": display}
            if tag:
                m = dict({".tag": "folder"}, **m)
            return m
        st = os.stat(local)
        m = {"name": name, "id": self.file_id(display),
             "client_modified": iso(st.st_mtime),
             "server_modified": iso(st.st_mtime),
             "rev": "%015x" % (st.st_mtime_ns & (16 ** 15 - 1)),
             "size": st.st_size, "path_lower": display.lower(),
             "path_display": display, "is_downloadable": True,
             "content_hash": content_hash_file(local)}
        if tag:
            m = dict({".tag": "file"}, **m)
        return m

    # ---- writes ------------------------------------------------------

    def commit(self, route, commit, src, write_tag):
        """Move the uploaded bytes in file src to commit["path"].

        write_tag wraps a WriteError: ["path"] for finish, or None for
        files/upload, whose path error is the UploadWriteFailed struct.
        """
        parts = self.check_path(route, commit.get("path"))
        mode = commit.get("mode", "add")
        if isinstance(mode, dict):
            mode = mode.get(".tag")
        if mode not in ("add", "overwrite", "update"):
            raise bad_input(route, "request body: mode: unknown tag")

        def write_error(tags):
            if write_tag is None:
                reason = {".tag": tags[0]}
                if len(tags) > 1:
                    reason[tags[0]] = {".tag": tags[1]}
                return ApiError(409, obj={
                    "error_summary": "path/" + "/".join(tags) + "/...",
                    "error": {".tag": "path", "reason": reason,
                              "upload_session_id": "pid_upload_session:"
                              + secrets.token_urlsafe(12)}})
            return route_error(write_tag + tags)

        # every ancestor must be a folder (or missing)
        for i in range(1, len(parts)):
            local, _ = self.resolve(parts[:i])
            if os.path.exists(local) and not os.path.isdir(local):
                raise write_error(["conflict", "file_ancestor"])
        local, display = self.resolve(parts)
        if os.path.isdir(local):
            raise write_error(["conflict", "folder"])
        if os.path.exists(local) and mode == "add" and \
                not commit.get("autorename", False):
            if content_hash_file(local) != content_hash_file(src):
                raise write_error(["conflict", "file"])
        if self.faults["corrupt_upload"] > 0 and os.path.getsize(src) > 0:
            self.faults["corrupt_upload"] -= 1
            with open(src, "r+b") as f:
                b = f.read(1)
                f.seek(0)
                f.write(bytes([b[0] ^ 0xff]))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        os.replace(src, local)
        return self.meta(local, display, tag=False)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dropbox-emulator"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(),
                                       fmt % args))

    # ---- plumbing ----------------------------------------------------

    def read_body(self):
        # A body cut off by the client (connection gone) is no request:
        # Dropbox commits nothing then, and neither may we.
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ClientGone()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    return bytes(out)
                data = self.rfile.read(size)
                if len(data) < size:
                    raise ClientGone()
                out += data
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n > 0 else b""
        if len(data) < n:
            raise ClientGone()
        return data

    def read_body_to(self, path):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = self.read_body()
            with open(path, "wb") as f:
                f.write(data)
            return len(data)
        left = n
        with open(path, "wb") as f:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    raise ClientGone()
                f.write(chunk)
                left -= len(chunk)
        return n - left

    def send(self, status, body=b"", ctype=None, headers=None):
        self.send_response(status)
        self.send_header("X-Dropbox-Request-Id", secrets.token_hex(16))
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=None):
        self.send(status, json.dumps(obj).encode(), "application/json",
                  headers)

    def send_error_answer(self, e):
        if e.obj is not None:
            self.send_json(e.status, e.obj, e.headers)
        else:
            self.send(e.status, (e.text or "").encode(),
                      "text/plain; charset=utf-8", e.headers)

    def event(self, route, status):
        st = self.server.state.stats
        st["calls"][route] = st["calls"].get(route, 0) + 1
        st["events"].append({"route": route, "status": status,
                             "time": time.time()})

    # ---- dispatch ----------------------------------------------------

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        state = self.server.state
        if url.path == "/_emu/stats":
            with LOCK:
                self.send_json(200, state.stats)
            return
        if url.path == "/oauth2/authorize":
            q = dict(urllib.parse.parse_qsl(url.query))
            if q.get("client_id") != state.args.app_key or \
                    q.get("response_type") != "code":
                self.send(400, b"invalid client_id or response_type",
                          "text/plain")
                return
            if q.get("code_challenge") and \
                    q.get("code_challenge_method") != "S256":
                self.send(400, b"code_challenge_method must be S256",
                          "text/plain")
                return
            code = secrets.token_urlsafe(24)
            with LOCK:
                state.codes[code] = (q["client_id"],
                                     q.get("code_challenge"),
                                     q.get("token_access_type"))
            self.send(200, code.encode(), "text/plain")
            return
        self.send(404, b"not found", "text/plain")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        state = self.server.state
        try:
            if url.path == "/_emu/fault":
                body = json.loads(self.read_body() or b"{}")
                with LOCK:
                    self.set_fault(body)
                self.send_json(200, {"ok": True})
                return
            if url.path == "/oauth2/token":
                self.oauth_token(self.read_body())
                return
            if not url.path.startswith("/2/"):
                self.read_body()
                self.send(404, b"Unknown endpoint", "text/plain")
                return
            self.api(url.path[3:], url.query)
        except ApiError as e:
            self.send_error_answer(e)

    def set_fault(self, body):
        state = self.server.state
        if body.get("expire_tokens"):
            for t in state.tokens.values():
                t["expired"] = True
        if "rate_limit" in body:
            state.faults["rate_limit"] = dict(body["rate_limit"])
        if "corrupt_upload" in body:
            state.faults["corrupt_upload"] = int(body["corrupt_upload"])
        if "fail" in body:
            state.faults["fail"] = dict(body["fail"])
        if "drop" in body:
            state.faults["drop"] = int(body["drop"])

    # ---- OAuth -------------------------------------------------------

    def oauth_token(self, raw):
        state = self.server.state
        form = dict(urllib.parse.parse_qsl(raw.decode("ascii", "replace")))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(
                    auth[6:]).decode().partition(":")
            except ValueError:
                pass
        grant = form.get("grant_type")

        def oauth_error(error, desc, status=400):
            raise ApiError(status, obj={"error": error,
                                        "error_description": desc})

        if client_id != state.args.app_key:
            oauth_error("invalid_client", "Invalid client_id or "
                        "client_secret")
        if secret is not None and state.args.app_secret is not None and \
                secret != state.args.app_secret:
            oauth_error("invalid_client", "Invalid client_id or "
                        "client_secret")
        with LOCK:
            if grant == "refresh_token":
                if form.get("refresh_token") not in state.refresh_tokens:
                    oauth_error("invalid_grant", "refresh token is invalid "
                                "or revoked")
                state.stats["refreshes"] += 1
                tok = "sl." + secrets.token_urlsafe(32)
                state.tokens[tok] = {"expired": False}
                self.send_json(200, {"access_token": tok,
                                     "token_type": "bearer",
                                     "expires_in": state.args.token_lifetime})
                return
            if grant == "authorization_code":
                code = form.get("code")
                if code not in state.codes:
                    oauth_error("invalid_grant", "code doesn't exist or "
                                "has expired")
                cid, challenge, access_type = state.codes.pop(code)
                if challenge is not None:
                    v = form.get("code_verifier") or ""
                    got = base64.urlsafe_b64encode(hashlib.sha256(
                        v.encode()).digest()).rstrip(b"=").decode()
                    if not 43 <= len(v) <= 128 or got != challenge:
                        oauth_error("invalid_grant", "invalid code "
                                    "verifier")
                elif secret != state.args.app_secret:
                    oauth_error("invalid_client", "No client_secret")
                tok = "sl." + secrets.token_urlsafe(32)
                state.tokens[tok] = {"expired": False}
                ans = {"access_token": tok, "token_type": "bearer",
                       "expires_in": state.args.token_lifetime,
                       "scope": "files.content.read files.content.write "
                                "files.metadata.read",
                       "uid": "12345", "account_id":
                       "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"}
                if access_type == "offline":
                    r = secrets.token_urlsafe(48)
                    state.refresh_tokens.add(r)
                    ans["refresh_token"] = r
                self.send_json(200, ans)
                return
        oauth_error("unsupported_grant_type", "grant_type is not supported")

    # ---- the API -----------------------------------------------------

    def api(self, route, query):
        state = self.server.state
        handler = ROUTES.get(route)
        style = STYLES.get(route)
        # Bodies are read first, so the connection stays usable after an
        # error answer.
        tmp = None
        try:
            if style == "upload":
                fd, tmp = tempfile.mkstemp(dir=state.sessions_dir)
                os.close(fd)
                self.read_body_to(tmp)
                raw = b""
            else:
                raw = self.read_body()
        except ClientGone:
            if tmp is not None:
                os.unlink(tmp)
            self.close_connection = True
            return
        try:
            self.api_call(route, query, handler, style, raw, tmp)
        except ApiError as e:
            with LOCK:
                self.event(route, e.status)
            raise
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)

    def api_call(self, route, query, handler, style, raw, tmp):
        state = self.server.state
        if handler is None:
            raise bad_input(route, "Unknown API function")
        self.check_auth(route)
        with LOCK:
            f = state.faults
            if f["drop"] > 0:
                f["drop"] -= 1
                self.event(route, 0)
                self.close_connection = True
                return
            if f["fail"] and f["fail"].get("count", 0) > 0:
                f["fail"]["count"] -= 1
                status = int(f["fail"].get("status", 503))
                raise ApiError(status, text="Service temporarily "
                               "unavailable")
            rl = f["rate_limit"]
            if rl and rl.get("count", 0) > 0:
                rl["count"] -= 1
                state.stats["rate_limited"] += 1
                after = int(rl.get("retry_after", 1))
                hdr = {"Retry-After": str(after)}
                if rl.get("json", True):
                    raise ApiError(429, obj={
                        "error_summary": "too_many_requests/..",
                        "error": {"reason": {".tag":
                                             "too_many_requests"},
                                  "retry_after": after}}, headers=hdr)
                raise ApiError(429, text="", headers=hdr)
        arg = self.parse_arg(route, style, query, raw)
        with LOCK:
            out = handler(self, route, arg, tmp)
            self.event(route, 200)
        if style == "download":
            result, path = out
            with open(path, "rb") as fh:
                data = fh.read()
            self.send(200, data, "application/octet-stream",
                      {"Dropbox-API-Result":
                       json.dumps(result, ensure_ascii=True)})
        else:
            self.send_json(200, out)

    def check_auth(self, route):
        auth = self.headers.get("Authorization")
        if auth is None:
            raise bad_input(route, 'Must provide HTTP header '
                            '"Authorization" or URL parameter '
                            '"authorization".')
        if not auth.startswith("Bearer ") or len(auth) <= 7:
            raise bad_input(route, 'Invalid authorization value in HTTP '
                            'header "Authorization": "%s".  Expecting '
                            '"Bearer <oauth2-access-token>".' % auth[:20])
        tok = self.server.state.tokens.get(auth[7:])
        if tok is None:
            raise ApiError(401, obj={"error_summary":
                                     "invalid_access_token/...",
                                     "error": {".tag":
                                               "invalid_access_token"}})
        if tok["expired"]:
            raise ApiError(401, obj={"error_summary":
                                     "expired_access_token/..",
                                     "error": {".tag":
                                               "expired_access_token"}})

    def parse_arg(self, route, style, query, raw):
        ctype = self.headers.get("Content-Type")
        if style == "rpc":
            if ctype is None or ctype.split(";")[0].strip() != \
                    "application/json":
                raise bad_input(route, 'Bad HTTP "Content-Type" header: '
                                '"%s".  Expecting one of "application/json",'
                                ' "application/json; charset=utf-8", '
                                '"text/plain; charset=dropbox-cors-hack".'
                                % (ctype or ""))
            try:
                return json.loads(raw.decode("utf-8") or "null")
            except ValueError:
                raise bad_input(route, "request body: could not decode "
                                "input as JSON")
        if style == "upload" and (ctype or "").split(";")[0].strip() not in \
                ("application/octet-stream", "text/plain"):
            raise bad_input(route, 'Bad HTTP "Content-Type" header: "%s".  '
                            'Expecting one of "application/octet-stream", '
                            '"text/plain; charset=dropbox-cors-hack".'
                            % (ctype or ""))
        if style == "download" and ctype not in (None, "", "text/plain",
                                                 "text/plain; charset=utf-8",
                                                 "application/octet-stream"):
            raise bad_input(route, 'Bad HTTP "Content-Type" header: "%s".  '
                            'Expecting one of "text/plain", "text/plain; '
                            'charset=utf-8", "application/octet-stream", '
                            '"application/octet-stream; charset=utf-8".'
                            % ctype)
        hdr = self.headers.get("Dropbox-API-Arg")
        if hdr is None:
            q = dict(urllib.parse.parse_qsl(query))
            hdr = q.get("arg")
        if hdr is None:
            raise bad_input(route, 'Must provide HTTP header '
                            '"Dropbox-API-Arg" or URL parameter "arg".')
        try:
            hdr.encode("ascii")
            return json.loads(hdr)
        except (UnicodeError, ValueError):
            raise bad_input(route, 'HTTP header "Dropbox-API-Arg": could '
                            'not decode input as JSON')


# ---- routes (called with LOCK held) -------------------------------------

def r_upload(h, route, arg, tmp):
    state = h.server.state
    size = os.path.getsize(tmp)
    if size > UPLOAD_MAX:
        raise route_error(["payload_too_large"])
    want = arg.get("content_hash")
    if want is not None and want != content_hash_file(tmp):
        raise route_error(["content_hash_mismatch"])
    return state.commit(route, arg, tmp, None)


def session_lookup(state, cursor, wrap):
    sid = (cursor or {}).get("session_id")
    s = state.sessions.get(sid)
    if s is None:
        raise route_error(wrap + ["not_found"])
    off = cursor.get("offset")
    if off != s["offset"]:
        raise route_error(wrap + ["incorrect_offset"],
                          {"correct_offset": s["offset"]})
    return s


def append_data(s, tmp):
    with open(tmp, "rb") as src, open(s["path"], "ab") as dst:
        shutil.copyfileobj(src, dst)
    s["offset"] += os.path.getsize(tmp)


def r_session_start(h, route, arg, tmp):
    state = h.server.state
    if os.path.getsize(tmp) > UPLOAD_MAX:
        raise route_error(["payload_too_large"])
    want = arg.get("content_hash")
    if want is not None and want != content_hash_file(tmp):
        raise route_error(["content_hash_mismatch"])
    sid = "pid_upload_session:" + secrets.token_urlsafe(24)
    fd, path = tempfile.mkstemp(dir=state.sessions_dir)
    os.close(fd)
    s = {"path": path, "offset": 0, "closed": False}
    append_data(s, tmp)
    s["closed"] = bool(arg.get("close", False))
    state.sessions[sid] = s
    return {"session_id": sid}


def r_session_append(h, route, arg, tmp):
    state = h.server.state
    s = session_lookup(state, arg.get("cursor"), [])
    if s["closed"]:
        raise route_error(["closed"])
    if os.path.getsize(tmp) > UPLOAD_MAX:
        raise route_error(["payload_too_large"])
    want = arg.get("content_hash")
    if want is not None and want != content_hash_file(tmp):
        raise route_error(["content_hash_mismatch"])
    append_data(s, tmp)
    s["closed"] = bool(arg.get("close", False))
    return None


def r_session_finish(h, route, arg, tmp):
    state = h.server.state
    cursor = arg.get("cursor") or {}
    s = session_lookup(state, cursor, ["lookup_failed"])
    if s["closed"] and os.path.getsize(tmp) > 0:
        raise route_error(["lookup_failed", "closed"])
    want = arg.get("content_hash")
    if want is not None and want != content_hash_file(tmp):
        raise route_error(["content_hash_mismatch"])
    append_data(s, tmp)
    meta = state.commit(route, arg.get("commit") or {}, s["path"], ["path"])
    del state.sessions[cursor["session_id"]]
    return meta


def r_download(h, route, arg, tmp):
    state = h.server.state
    parts = state.check_path(route, arg.get("path"))
    local, display = state.resolve(parts)
    if not os.path.exists(local):
        raise route_error(["path", "not_found"])
    if os.path.isdir(local):
        raise route_error(["path", "not_file"])
    return state.meta(local, display, tag=False), local


def r_get_metadata(h, route, arg, tmp):
    state = h.server.state
    parts = state.check_path(route, arg.get("path"))
    local, display = state.resolve(parts)
    if not os.path.exists(local):
        raise route_error(["path", "not_found"])
    return state.meta(local, display)


def r_list_folder(h, route, arg, tmp):
    state = h.server.state
    parts = state.check_path(route, arg.get("path"), root_ok=True)
    limit = arg.get("limit", 2000)
    if not isinstance(limit, int) or not 1 <= limit <= 2000:
        raise bad_input(route, "request body: limit: value must be "
                        "between 1 and 2000")
    local, display = state.resolve(parts)
    if not os.path.exists(local):
        raise route_error(["path", "not_found"])
    if not os.path.isdir(local):
        raise route_error(["path", "not_folder"])
    entries = []
    walk = [(local, "" if not parts else display)]
    while walk:
        d, disp = walk.pop(0)
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            entries.append(state.meta(p, disp + "/" + name))
            if arg.get("recursive") and os.path.isdir(p):
                walk.append((p, disp + "/" + name))
    cid = secrets.token_urlsafe(24)
    state.cursors[cid] = {"entries": entries, "pos": 0,
                          "page": min(limit, state.args.page_size)}
    return page(state, cid)


def page(state, cid):
    c = state.cursors[cid]
    chunk = c["entries"][c["pos"]:c["pos"] + c["page"]]
    c["pos"] += len(chunk)
    more = c["pos"] < len(c["entries"])
    return {"entries": chunk, "cursor": "AAE" + cid, "has_more": more}


def r_list_continue(h, route, arg, tmp):
    state = h.server.state
    cur = arg.get("cursor")
    if not isinstance(cur, str) or not cur.startswith("AAE") or \
            cur[3:] not in state.cursors:
        raise route_error(["reset"])
    return page(state, cur[3:])


def r_delete(h, route, arg, tmp):
    state = h.server.state
    parts = state.check_path(route, arg.get("path"))
    local, display = state.resolve(parts)
    if not os.path.exists(local):
        raise route_error(["path_lookup", "not_found"])
    meta = state.meta(local, display)
    if os.path.isdir(local):
        shutil.rmtree(local)
    else:
        os.unlink(local)
    return {"metadata": meta}


def r_create_folder(h, route, arg, tmp):
    state = h.server.state
    parts = state.check_path(route, arg.get("path"))
    local, display = state.resolve(parts)
    if os.path.exists(local):
        raise route_error(["path", "conflict", "folder" if
                           os.path.isdir(local) else "file"])
    os.makedirs(local)
    return {"metadata": state.meta(local, display, tag=False)}


ROUTES = {
    "files/upload": r_upload,
    "files/upload_session/start": r_session_start,
    "files/upload_session/append_v2": r_session_append,
    "files/upload_session/finish": r_session_finish,
    "files/download": r_download,
    "files/get_metadata": r_get_metadata,
    "files/list_folder": r_list_folder,
    "files/list_folder/continue": r_list_continue,
    "files/delete_v2": r_delete,
    "files/create_folder_v2": r_create_folder,
}
STYLES = {r: "rpc" for r in ROUTES}
STYLES.update({"files/upload": "upload", "files/upload_session/start":
               "upload", "files/upload_session/append_v2": "upload",
               "files/upload_session/finish": "upload",
               "files/download": "download"})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--app-key", required=True)
    ap.add_argument("--app-secret")
    ap.add_argument("--refresh-token", action="append", default=[])
    ap.add_argument("--access-token", action="append", default=[])
    ap.add_argument("--app-folder")
    ap.add_argument("--page-size", type=int, default=2000)
    ap.add_argument("--token-lifetime", type=int, default=14400)
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    # The handshake happens in the request's thread, so a client that
    # connects and says nothing cannot stall the others.
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("READY %d" % port, flush=True)
    try:
        srv.serve_forever()
    finally:
        shutil.rmtree(srv.state.sessions_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
