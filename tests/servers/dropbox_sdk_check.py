#!/usr/bin/python3
"""dropbox_sdk_check.py: drive dropbox_emulator.py with Dropbox's official
Python SDK (Debian's python3-dropbox) and check that it answers as the
service does: results decode into the SDK's types, errors into the SDK's
exceptions and error unions.

Usage: dropbox_sdk_check.py HOST:PORT CA_PEM APP_KEY REFRESH_TOKEN TOKEN
(the emulator started with --page-size 3).  Exits 0, or 1 naming the first
check that failed.  The SDK reads DROPBOX_API_HOST and
DROPBOX_API_CONTENT_HOST when it is imported, so they are set first.
"""

import hashlib
import json
import os
import sys
import time
import urllib.request
import ssl

hostport, ca, app_key, refresh, token = sys.argv[1:6]
os.environ["DROPBOX_API_HOST"] = hostport
os.environ["DROPBOX_API_CONTENT_HOST"] = hostport
os.environ["REQUESTS_CA_BUNDLE"] = ca

import dropbox  # noqa: E402
from dropbox import exceptions, files  # noqa: E402

BLOCK = 4 * 1024 * 1024
CTX = ssl.create_default_context(cafile=ca)


def content_hash(data):
    h = hashlib.sha256()
    for i in range(0, len(data), BLOCK):
        h.update(hashlib.sha256(data[i:i + BLOCK]).digest())
    return h.hexdigest()


def emu(path, body=None):
    req = urllib.request.Request("https://%s%s" % (hostport, path),
                                 data=None if body is None else
                                 json.dumps(body).encode(), method="POST"
                                 if body is not None else "GET")
    with urllib.request.urlopen(req, context=CTX) as r:
        return json.loads(r.read())


def check(cond, what):
    if not cond:
        print("FAIL: %s" % what, file=sys.stderr)
        sys.exit(1)
    print("ok: %s" % what)


def expect_api_error(fn, what):
    try:
        fn()
    except exceptions.ApiError as e:
        return e.error
    check(False, what + " raised ApiError")


dbx = dropbox.Dropbox(oauth2_access_token=token, ca_certs=ca,
                      max_retries_on_error=0, max_retries_on_rate_limit=0)

# A hash that needs two blocks, computed here independently.
data = bytes(range(256)) * (BLOCK // 256) + b"tail" * 1000
m = dbx.files_upload(data, "/SDK/Two Blocks.bin",
                     mode=files.WriteMode.overwrite)
check(isinstance(m, files.FileMetadata), "upload returns FileMetadata")
check(m.size == len(data), "upload size")
check(m.content_hash == content_hash(data), "content_hash of 2 blocks")
check(m.path_display == "/SDK/Two Blocks.bin", "path_display")
check(m.path_lower == "/sdk/two blocks.bin", "path_lower")

# Case-insensitive lookups, download metadata and body.
md, resp = dbx.files_download("/sdk/two blocks.BIN")
check(resp.content == data, "download body")
check(md.content_hash == m.content_hash and md.size == len(data),
      "download metadata (Dropbox-API-Result)")

# Non-ASCII names travel escaped in Dropbox-API-Arg.
m2 = dbx.files_upload(b"x", "/SDK/caf\u00e9 \u2603.txt")
check(m2.name == "caf\u00e9 \u2603.txt", "non-ASCII name round trip")
check(m2.content_hash == content_hash(b"x"), "content_hash of one block")
m0 = dbx.files_upload(b"", "/SDK/empty")
check(m0.size == 0 and m0.content_hash == content_hash(b""),
      "empty file and its content_hash")

# list_folder pages (emulator page size 3) and continue.
for i in range(5):
    dbx.files_upload(b"%d" % i, "/SDK/f%d" % i)
res = dbx.files_list_folder("/SDK")
check(res.has_more and len(res.entries) == 3, "list_folder first page")
names = [e.name for e in res.entries]
while res.has_more:
    res = dbx.files_list_folder_continue(res.cursor)
    names += [e.name for e in res.entries]
check(len(names) == 8 and "f4" in names, "list_folder_continue pages")
check(all(isinstance(e, files.FileMetadata) for e in
          dbx.files_list_folder("/SDK", limit=2000).entries),
      "entries decode as FileMetadata")
root = dbx.files_list_folder("")
check(any(isinstance(e, files.FolderMetadata) and e.name == "SDK"
          for e in root.entries), "root is '' and lists FolderMetadata")
try:
    dbx.files_list_folder("/")
    check(False, "list_folder('/') refused")
except exceptions.BadInputError as e:
    check("empty string" in e.message, "list_folder('/') is a 400")

# 409 error unions.
err = expect_api_error(lambda: dbx.files_get_metadata("/SDK/missing"),
                       "get_metadata of a missing path")
check(err.is_path() and err.get_path().is_not_found(),
      "get_metadata: path/not_found")
err = expect_api_error(lambda: dbx.files_download("/SDK/missing"),
                       "download of a missing path")
check(err.is_path() and err.get_path().is_not_found(),
      "download: path/not_found")
err = expect_api_error(lambda: dbx.files_delete_v2("/SDK/missing"),
                       "delete of a missing path")
check(err.is_path_lookup() and err.get_path_lookup().is_not_found(),
      "delete_v2: path_lookup/not_found")
err = expect_api_error(lambda: dbx.files_list_folder("/SDK/f1"),
                       "list_folder of a file")
check(err.is_path() and err.get_path().is_not_folder(),
      "list_folder: path/not_folder")
err = expect_api_error(lambda: dbx.files_upload(b"y", "/SDK",
                                                mode=files.WriteMode.add),
                       "upload over a folder")
check(err.is_path() and err.get_path().reason.is_conflict(),
      "upload: path (UploadWriteFailed) conflict")
err = expect_api_error(lambda: dbx.files_upload(b"z", "/SDK/h",
                                                content_hash="0" * 64),
                       "upload with a wrong content_hash")
check(err.is_content_hash_mismatch(), "upload: content_hash_mismatch")
err = expect_api_error(lambda: dbx.files_list_folder_continue("AAEnope"),
                       "continue with a bad cursor")
check(err.is_reset(), "list_folder/continue: reset")

# Upload sessions, with a wrong offset on the way.
part = b"p" * 1000
s = dbx.files_upload_session_start(part)
cur = files.UploadSessionCursor(session_id=s.session_id, offset=5)
err = expect_api_error(lambda: dbx.files_upload_session_append_v2(part, cur),
                       "append at a wrong offset")
check(err.is_incorrect_offset() and
      err.get_incorrect_offset().correct_offset == 1000,
      "append_v2: incorrect_offset with correct_offset")
cur = files.UploadSessionCursor(session_id=s.session_id, offset=1000)
dbx.files_upload_session_append_v2(part, cur)
cur = files.UploadSessionCursor(session_id=s.session_id, offset=1)
err = expect_api_error(lambda: dbx.files_upload_session_finish(
    part, cur, files.CommitInfo(path="/SDK/session.bin")),
    "finish at a wrong offset")
check(err.is_lookup_failed() and
      err.get_lookup_failed().is_incorrect_offset(),
      "finish: lookup_failed/incorrect_offset")
cur = files.UploadSessionCursor(session_id=s.session_id, offset=2000)
m = dbx.files_upload_session_finish(part, cur,
                                    files.CommitInfo(path="/SDK/session.bin"))
check(m.size == 3000 and m.content_hash == content_hash(part * 3),
      "session finish: metadata and content_hash")
err = expect_api_error(lambda: dbx.files_upload_session_append_v2(
    part, files.UploadSessionCursor(session_id="nope", offset=0)),
    "append to an unknown session")
check(err.is_not_found(), "append_v2: not_found")

# Delete, then it is gone.
r = dbx.files_delete_v2("/SDK/f0")
check(isinstance(r.metadata, files.FileMetadata), "delete_v2 result")

# 401: unknown token, expired token (and the SDK's own refresh).
bad = dropbox.Dropbox(oauth2_access_token="nope", ca_certs=ca,
                      max_retries_on_error=0)
try:
    bad.files_list_folder("")
    check(False, "unknown token refused")
except exceptions.AuthError as e:
    check(e.error.is_invalid_access_token(), "401 invalid_access_token")
emu("/_emu/fault", {"expire_tokens": True})
try:
    dbx.files_list_folder("")
    check(False, "expired token refused")
except exceptions.AuthError as e:
    check(e.error.is_expired_access_token(), "401 expired_access_token")
before = emu("/_emu/stats")["refreshes"]
fresh = dropbox.Dropbox(oauth2_access_token=token, oauth2_refresh_token=refresh,
                        app_key=app_key, ca_certs=ca, max_retries_on_error=0)
fresh.files_list_folder("")
check(emu("/_emu/stats")["refreshes"] == before + 1,
      "the SDK refreshes through /oauth2/token")
badref = dropbox.Dropbox(oauth2_refresh_token="nope", app_key=app_key,
                         ca_certs=ca, max_retries_on_error=0)
try:
    badref.files_list_folder("")
    check(False, "bad refresh token refused")
except exceptions.AuthError as e:
    check(e.error.is_invalid_access_token(), "400 invalid_grant")

# 429: RateLimitError with the server's retry_after; then the SDK's own
# retry waits it out.
emu("/_emu/fault", {"rate_limit": {"count": 1, "retry_after": 2}})
hasty = dropbox.Dropbox(oauth2_refresh_token=refresh, app_key=app_key,
                        ca_certs=ca, max_retries_on_error=0,
                        max_retries_on_rate_limit=0)
try:
    hasty.files_list_folder("")
    check(False, "429 raised")
except exceptions.RateLimitError as e:
    check(e.backoff == 2 and e.error.reason.is_too_many_requests(),
          "429 RateLimitError, retry_after 2")
emu("/_emu/fault", {"rate_limit": {"count": 1, "retry_after": 1,
                                   "json": False}})
patient = dropbox.Dropbox(oauth2_refresh_token=refresh, app_key=app_key,
                          ca_certs=ca, max_retries_on_rate_limit=2)
t0 = time.time()
patient.files_list_folder("")
check(time.time() - t0 >= 1, "plain 429 with Retry-After, waited out")

# 5xx: InternalServerError.
emu("/_emu/fault", {"fail": {"count": 1, "status": 503}})
try:
    fresh.files_list_folder("")
    check(False, "503 raised")
except exceptions.InternalServerError as e:
    check(e.status_code == 503, "503 InternalServerError")

print("all SDK checks passed")
