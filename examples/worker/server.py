"""Minimal ML worker exposing the /v1/ping contract.

GET /v1/ping with `Authorization: Bearer $WORKER_TOKEN` answers:
  {"status": "ok", "version": ..., "gpu": ..., "diarization": ..., "activeJobs": 0, "maxConcurrentJobs": N}
Anything without the right token gets 401. Replace `handle_job` with your model code.
"""
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = os.environ.get("WORKER_TOKEN", "")
PORT = int(os.environ.get("WORKER_PORT", "8477"))
MAX_JOBS = int(os.environ.get("WORKER_MAX_CONCURRENT_JOBS", "1"))
VERSION = os.environ.get("BUILD_COMMIT", "dev")


def torch_status():
    """Import torch once at start: a broken install should fail the container, not the first job."""
    import torch  # noqa: F401  (fail fast: a worker without torch is useless)

    return bool(torch.cuda.is_available())


def diarization_status():
    try:
        import pyannote.audio  # noqa: F401

        return True, None
    except Exception as e:  # optional feature: report why it is off
        return False, repr(e)


GPU = torch_status()
DIARIZATION, DIARIZATION_ERROR = diarization_status()
ACTIVE_JOBS = 0


class Handler(BaseHTTPRequestHandler):
    server_version = "ml-worker"

    def authorized(self):
        got = self.headers.get("Authorization", "")
        return bool(TOKEN) and hmac.compare_digest(got, f"Bearer {TOKEN}")

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def ping_body(self):
        body = {
            "status": "ok",
            "version": VERSION,
            "gpu": GPU,
            "diarization": DIARIZATION,
            "activeJobs": ACTIVE_JOBS,
            "maxConcurrentJobs": MAX_JOBS,
        }
        if DIARIZATION_ERROR:
            body["diarizationError"] = DIARIZATION_ERROR
        return body

    def do_GET(self):
        if self.path == "/healthz":  # for HEALTHCHECK: liveness only, no token needed, no details
            return self.send_json(200, {"status": "ok"})
        if self.path != "/v1/ping":
            return self.send_json(404, {"error": "not found"})
        if not self.authorized():
            return self.send_json(401, {"error": "unauthorized"})
        return self.send_json(200, self.ping_body())

    def log_message(self, fmt, *args):  # one line per request on stdout, never headers
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


def main():
    if not TOKEN:
        sys.exit("WORKER_TOKEN is not set; refusing to start an unauthenticated worker")
    print(f"worker {VERSION} listening on :{PORT} (gpu={GPU}, diarization={DIARIZATION})", flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()


if __name__ == "__main__":
    main()
