#!/usr/bin/env python3
"""netpoold's dashboard in a real browser (headless Chromium from Debian,
driven through chromedriver's WebDriver protocol with only the standard
library) while a real netpoold and netpool-worker run a map: the page shows
the map's count, the node and a job's result, takes its token from the
address (and removes it from there), and asks for one without it or with a
wrong one. Saves a screenshot. Exits 77 (skipped) only when chromium or
chromedriver is missing.

Usage: dashboard_browser_test.py NETPOOLD NETPOOL_WORKER NETPOOL_CLI OUT_DIR
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ITEMS = 24
SKIP = 77
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,1600",
]


def fail(message):
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_line_with(process, prefix, timeout=15):
    """The rest of the first line of `process`'s stdout starting with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            fail("the program ended before printing %r" % prefix)
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    fail("no line %r within %d s" % (prefix, timeout))


class WebDriver:
    """The few WebDriver calls the test needs (W3C protocol over HTTP)."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as e:
            fail("WebDriver %s %s: %s" % (method, path, e.read().decode(errors="replace")))

    def start(self, chromium, user_data_dir):
        flags = CHROMIUM_FLAGS + ["--user-data-dir=" + user_data_dir]
        value = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": flags}}}})
        self.session = value["sessionId"]

    def go(self, url):
        self.call("POST", "/session/%s/url" % self.session, {"url": url})

    def js(self, script, *args):
        return self.call("POST", "/session/%s/execute/sync" % self.session,
                         {"script": script, "args": list(args)})

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", "/session/%s/screenshot" % self.session))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", "/session/%s" % self.session)
            except SystemExit:
                pass


def wait_for(driver, what, script, expected, timeout=30):
    """Polls `script` (returning a value) until it equals `expected`."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = driver.js(script)
        if seen == expected:
            return
        time.sleep(0.2)
    fail("%s: wanted %r, the page shows %r" % (what, expected, seen))


def text_of(element_id):
    return "return (document.getElementById(%r) || {}).textContent;" % element_id


def main():
    if len(sys.argv) != 5:
        fail(__doc__)
    netpoold, worker_binary, cli, out_dir = sys.argv[1:]
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        print("SKIPPED: chromium and chromedriver are needed (Debian: chromium chromium-driver)")
        return SKIP
    started = time.monotonic()
    os.makedirs(out_dir, exist_ok=True)
    processes = []
    driver = None
    with tempfile.TemporaryDirectory(prefix="netpool-dashboard-") as scratch:
        # netpoold leaves its token for its user here, where the CLI finds it.
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(scratch, "config"))
        for name in ("NETPOOL_TOKEN", "NETPOOL_TOKEN_FILE", "NETPOOL_SCHEDULER", "NETPOOL_TLS_CA"):
            env.pop(name, None)

        def spawn(argv, **kwargs):
            process = subprocess.Popen(argv, env=env, text=True, **kwargs)
            processes.append(process)
            return process

        try:
            scheduler = spawn([netpoold, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                               "--data", os.path.join(scratch, "data")], stdout=subprocess.PIPE)
            address = read_line_with(scheduler, "listening on ")
            http = read_line_with(scheduler, "http on ")
            spawn([worker_binary, "--scheduler", address, "--processes", "2", "--name",
                   "browser-node"])
            url = subprocess.run([cli, "--scheduler", address, "dashboard", "--http", http],
                                 env=env, text=True, capture_output=True, timeout=30)
            if url.returncode != 0 or "#token=" not in url.stdout:
                fail("netpool dashboard: %d %s %s" % (url.returncode, url.stdout, url.stderr))
            page = url.stdout.strip()
            base = page.split("#")[0]

            port = free_port()
            spawn([chromedriver, "--port=%d" % port], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
            driver = WebDriver(port)
            deadline = time.monotonic() + 15
            while True:
                try:
                    urllib.request.urlopen(driver.base + "/status", timeout=2).read()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline:
                        fail("chromedriver did not start")
                    time.sleep(0.1)
            driver.start(chromium, os.path.join(scratch, "browser"))

            # Without a token: the form, and no data.
            driver.go(base)
            wait_for(driver, "the token form without a token",
                     "return document.getElementById('login').hidden;", False)
            if not driver.js("return document.getElementById('main').hidden;"):
                fail("the data section shows without a token")
            # A wrong token: refused, back to the form, saying so.
            driver.go(base + "#token=wrong-token-0123456789")
            wait_for(driver, "the refusal of a wrong token",
                     "return document.getElementById('login-error').textContent"
                     ".startsWith('The token was refused');", True)
            if driver.js("return sessionStorage.getItem('netpool-token');") is not None:
                fail("a refused token stays in sessionStorage")

            # The right token: taken from the address, which no longer shows it.
            driver.go(page)
            wait_for(driver, "the page with a token",
                     "return document.getElementById('main').hidden;", False)
            if "token" in driver.js("return location.href;"):
                fail("the token stays in the address bar: " + driver.js("return location.href;"))
            wait_for(driver, "the worker row",
                     "return Array.from(document.querySelectorAll('#workers-table .worker-row'))"
                     ".map(r => r.cells[0].textContent);", ["browser-node"])

            # A real map while the page watches.
            items = ["item-%d" % i for i in range(ITEMS)]
            mapping = subprocess.Popen([cli, "--scheduler", address, "map", "echo", ":::"] + items,
                                       env=env, text=True, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
            processes.append(mapping)
            wait_for(driver, "the succeeded count", text_of("succeeded"), str(ITEMS))
            out, err = mapping.communicate(timeout=30)
            if mapping.returncode != 0:
                fail("netpool map: %d %s" % (mapping.returncode, err))
            wait_for(driver, "the job rows",
                     "return document.querySelectorAll('#jobs-table .job-row').length;", ITEMS)
            wait_for(driver, "the chart's finished jobs",
                     "return Array.from(document.querySelectorAll('#chart rect.ok title'))"
                     ".reduce((n, t) => n + parseInt(t.textContent), 0);", ITEMS)
            wait_for(driver, "the busy slots", text_of("busy"), "0 / 2")

            # One job's view, opened from the list: its arguments are one of
            # the items, which its result echoes.
            driver.js("document.querySelector('#jobs-table .job-row a').click();")
            wait_for(driver, "the job view's state", text_of("job-state"), "SUCCEEDED")
            wait_for(driver, "the job view's result",
                     "return document.getElementById('job-result').textContent"
                     ".includes('item-');", True)
            args = driver.js(text_of("job-args"))
            item = next((i for i in items if json.dumps([i]) == args), None)
            if item is None:
                fail("the job's arguments show %r, no one item" % args)
            if item not in driver.js(text_of("job-result")):
                fail("the job's result %r does not echo %r" % (driver.js(text_of("job-result")), item))
            attempts = driver.js("return Array.from(document.querySelectorAll("
                                 "'#job-attempts tbody tr')).map(r => r.cells[1].textContent);")
            if attempts != ["browser-node"]:
                fail("the job's attempts show %r" % attempts)

            driver.js("window.scrollTo(0, 0);")
            shot = os.path.join(os.path.abspath(out_dir), "dashboard.png")
            driver.screenshot(shot)
            print("screenshot: " + shot)
            print("PASSED in %.1f s" % (time.monotonic() - started))
            return 0
        finally:
            if driver is not None:
                driver.quit()
            for process in reversed(processes):
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    sys.exit(main())
