# A wsgate backend in plain Python: run it, then `wsgate --backend http://127.0.0.1:9000/rpc`.
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Backend(BaseHTTPRequestHandler):
    def do_POST(self):
        args = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or "{}")
        if self.path != "/rpc/weather.get":
            return self.send_error(404, "no such method")
        time.sleep(0.2)  # the expensive part: a slow query, say
        body = json.dumps({"city": args.get("city"), "temp_c": 21, "at": time.time()}).encode()
        self.send_response(200)
        self.send_header("Cache-Control", "max-age=30")  # all wsgate needs to cache it
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 9000), Backend).serve_forever()
