#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake OAuth2 provider on 127.0.0.1 for the OAuth2 tests.

Prints "PORT <n>" as its first stdout line and stops by itself after
--lifetime seconds. Endpoints:

  GET  /authorize   checks response_type=code, the client id, PKCE S256 and
                    a loopback redirect_uri, then redirects (302) to it with
                    ?code=..&state=.. (or ?error=access_denied&state=.. with
                    /control?deny=1)
  POST /token       grant_type=authorization_code (checks the code, client
                    id, redirect_uri and the PKCE code_verifier) and
                    grant_type=refresh_token; a revoked or unknown refresh
                    token is 400 {"error":"invalid_grant"}
  GET  /control?... test controls: revoke=1 (every refresh token and access
                    token stops working), drop-access=1 (access tokens stop
                    working at the POP server, refresh tokens still work),
                    pop-refuses=1 (tokens issued from now on are refused by
                    the POP server), expires-in=N, deny=0|1
  GET  /stats       JSON: grants counted by type, scopes asked for, and the
                    number of tokens issued

Access tokens the POP server must accept are kept in --tokens-file, one a
line (faultpop.py --token-file reads it at each login). Every token issued
is also appended to --issued-file, so a test can check that none of them
ever appears where it must not.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import urllib.parse


class State:
    def __init__(self, opt):
        self.opt = opt
        self.lock = threading.Lock()
        self.codes = {}       # code -> dict(client_id, redirect_uri, challenge, scope)
        self.refresh = {}     # refresh token -> client id
        self.access = []      # tokens the POP server accepts
        self.expires_in = opt.expires_in
        self.deny = False
        self.pop_refuses = False  # new access tokens are not given to the POP server
        self.stats = {"authorization_code": 0, "refresh_token": 0, "invalid_grant": 0,
                      "scopes": [], "issued": 0, "authorize": 0}

    def token(self, prefix):
        # long, as Microsoft's are; URL-safe characters only
        body = secrets.token_urlsafe(self.opt.token_length)
        return (prefix + body)[:self.opt.token_length]

    def write_tokens(self):
        tmp = self.opt.tokens_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(t + "\n" for t in self.access))
        os.replace(tmp, self.opt.tokens_file)

    def issue(self, client_id, with_refresh):
        access = self.token("at-")
        if not self.pop_refuses:
            self.access.append(access)
            self.write_tokens()
        out = {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in}
        issued = [access]
        if with_refresh:
            refresh = self.token("rt-")
            self.refresh[refresh] = client_id
            out["refresh_token"] = refresh
            issued.append(refresh)
        self.stats["issued"] += len(issued)
        with open(self.opt.issued_file, "a") as f:
            f.write("".join(t + "\n" for t in issued))
        return out


def b64url_sha256(text):
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def loopback_redirect(uri):
    u = urllib.parse.urlsplit(uri)
    return u.scheme == "http" and u.hostname == "127.0.0.1" and u.port


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "fakeoauth"

    def log_message(self, fmt, *args):
        pass  # URLs carry codes; keep them out of the test logs

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/authorize":
            self.authorize(st, q)
        elif u.path == "/control":
            with st.lock:
                if q.get("revoke") == "1":
                    st.refresh.clear()
                    st.access.clear()
                    st.write_tokens()
                if q.get("drop-access") == "1":
                    st.access.clear()
                    st.write_tokens()
                if "expires-in" in q:
                    st.expires_in = int(q["expires-in"])
                if "deny" in q:
                    st.deny = q["deny"] == "1"
                if "pop-refuses" in q:
                    st.pop_refuses = q["pop-refuses"] == "1"
            self.send_json(200, {"ok": True})
        elif u.path == "/stats":
            with st.lock:
                self.send_json(200, st.stats)
        else:
            self.send_json(404, {"error": "not_found"})

    def authorize(self, st, q):
        opt = st.opt
        redirect = q.get("redirect_uri", "")
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type")
        if q.get("client_id") not in opt.client_id:
            problems.append("client_id")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            problems.append("pkce")
        if not loopback_redirect(redirect):
            problems.append("redirect_uri")
        if not q.get("state"):
            problems.append("state")
        if problems:
            self.send_json(400, {"error": "invalid_request", "bad": problems})
            return
        with st.lock:
            st.stats["authorize"] += 1
            st.stats["scopes"].append(q.get("scope", ""))
            if st.deny:
                params = {"error": "access_denied", "state": q["state"]}
            else:
                code = secrets.token_urlsafe(24)
                st.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                                  "challenge": q["code_challenge"]}
                params = {"code": code, "state": q["state"]}
        sep = "&" if "?" in redirect else "?"
        self.send_response(302)
        self.send_header("Location", redirect + sep + urllib.parse.urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        st = self.server.state
        if urllib.parse.urlsplit(self.path).path != "/token":
            self.send_json(404, {"error": "not_found"})
            return
        n = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
        grant = form.get("grant_type")
        with st.lock:
            if grant == "authorization_code":
                c = st.codes.pop(form.get("code", ""), None)
                if (c is None or form.get("client_id") != c["client_id"]
                        or form.get("redirect_uri") != c["redirect_uri"]
                        or b64url_sha256(form.get("code_verifier", "")) != c["challenge"]):
                    st.stats["invalid_grant"] += 1
                    self.send_json(400, {"error": "invalid_grant",
                                         "error_description": "bad code, verifier or redirect"})
                    return
                st.stats["authorization_code"] += 1
                self.send_json(200, st.issue(c["client_id"], True))
            elif grant == "refresh_token":
                owner = st.refresh.get(form.get("refresh_token", ""))
                if owner is None or owner != form.get("client_id"):
                    st.stats["invalid_grant"] += 1
                    self.send_json(400, {"error": "invalid_grant",
                                         "error_description": "Token has been expired or revoked."})
                    return
                st.stats["refresh_token"] += 1
                self.send_json(200, st.issue(owner, st.opt.rotate))
            else:
                self.send_json(400, {"error": "unsupported_grant_type"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--client-id", action="append", required=True)
    ap.add_argument("--tokens-file", required=True)
    ap.add_argument("--issued-file", required=True)
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--token-length", type=int, default=1500)
    ap.add_argument("--rotate", action="store_true",
                    help="a new refresh token with every refresh, as Microsoft does")
    ap.add_argument("--lifetime", type=float, default=120.0)
    opt = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(opt)
    srv.state.write_tokens()
    print("PORT %d" % srv.server_address[1], flush=True)
    killer = threading.Timer(opt.lifetime, lambda: os._exit(0))
    killer.daemon = True
    killer.start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
