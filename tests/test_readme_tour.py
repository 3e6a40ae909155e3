"""The README's tour as a newcomer follows it: `./dev run` on a fresh store, every shell command of the
tour as written (only the key, the address and the secret filled in), the demo visit of step 3 in
Chromium, then the dashboard's and the reports' figures checked against a count made by hand. And
`./dev run` again after the store was deleted: a new analyst token that works, the address it binds,
no reinstall."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from support.chromium import CHROMIUM
from support.chromium import CHROMIUM_ARGS
from support.chromium import watched_page
from support.servers import ROOT
from support.servers import free_port

pytestmark = [pytest.mark.processes, pytest.mark.slow]

README = (ROOT / "README.md").read_text()
TOUR = README.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
ARTIFACTS = ROOT / "test-artifacts"
#: A person's browser (headless Chromium's own user agent is a bot's).
PERSON = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
#: The visit of step 3, page by page as the README tells it: two kitchen products, home, then the knife bought.
VISIT = ["/demo/", "/demo/product.html?id=p10", "/demo/product.html?id=p11", "/demo/index.html",
         "/demo/product.html?id=p11", "/demo/cart.html?id=p11", "/demo/checkout.html?id=p11",
         "/demo/order.html?id=p11"]
KNIFE_PRICE = 65.0
#: Step 6's Segment order.
SEGMENT_ORDER = 25.0


def _blocks(step: int) -> list[str]:
    """The shell blocks of a numbered step of the tour, in order."""
    text = TOUR.split(f"**{step}. ", 1)[1].split(f"**{step + 1}. ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


class DevRun:
    """`./dev run` as a newcomer starts it, on its own store, address and token file."""

    def __init__(self, folder, port: int):
        """Where it stores and binds."""
        self.url = f"http://127.0.0.1:{port}"
        self.store = folder / "collector.sqlite3"
        self.token_file = folder / "dev-token"
        self.log = folder / "dev-run.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        self.env.update(COLLECTOR_DATABASE_URL=f"sqlite:///{self.store}", COLLECTOR_BIND=f"127.0.0.1:{port}",
                        DEV_TOKEN_FILE=str(self.token_file))
        self.process = None
        self.banner = ""

    def start(self) -> DevRun:
        """Run it and wait until the collector answers; keep what it printed."""
        with open(self.log, "w") as log:  # a file, not a pipe: gunicorn's log lines would fill a pipe nobody reads
            self.process = subprocess.Popen([str(ROOT / "dev"), "run"], cwd=ROOT, env=self.env,
                                            start_new_session=True, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "./dev run never answered"
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        """Stop it (gunicorn and its worker) as Ctrl-C would, and keep its banner."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # What it printed before serving: the install, if any, and the banner.
        self.banner = self.log.read_text().split("A worker runs beside it", 1)[0]

    def key(self) -> str:
        """The development key it made."""
        return subprocess.run([str(ROOT / ".venv" / "bin" / "collector"), "keys", "ensure", "--name", "development"],
                              env=self.env, capture_output=True, text=True, check=True).stdout.strip()


def _signed_in(url: str, token: str) -> bool:
    """Whether the dashboard takes this token."""
    session = requests.Session()
    session.post(url + "/dashboard/login", data={"token": token}, timeout=10)
    return "Funnel" in session.get(url + "/dashboard", timeout=10).text


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """A folder for the tour: the repository's docs and venv beside it, as a clone has them."""
    if not shutil.which("curl"):
        pytest.skip("SKIPPED LOUDLY: curl is not installed (apt-get install curl)")
    folder = tmp_path_factory.mktemp("tour")
    (folder / "docs").symlink_to(ROOT / "docs")
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return folder


def test_the_readme_tour_as_written(tour, browser):
    run = DevRun(tour, free_port()).start()
    key = run.key()

    def shell(block: str) -> str:
        """A block of the README in bash, with the key and address filled in and the secret kept between
        blocks (the reader's own shell keeps it)."""
        block = block.replace("live_YOURKEY", key).replace("http://127.0.0.1:8000", run.url)
        done = subprocess.run(["bash", "-c", f"set -e; [ -f secret ] && SECRET=$(cat secret); {block}\n"
                                             'printf %s "${SECRET:-}" > secret'],
                              cwd=tour, env=run.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (block, done.stderr)
        return done.stdout

    collector = [str(ROOT / ".venv" / "bin" / "collector")]

    def query(sql: str) -> list[dict]:
        """Rows of the store, as JSON."""
        return json.loads(subprocess.run([*collector, "query", sql, "--format", "json"], env=run.env,
                                         capture_output=True, text=True, check=True).stdout)

    try:
        # 2. The same event twice: answered twice, stored once, a bot's (curl).
        [send] = _blocks(2)
        for _ in range(2):
            answer = shell(send)
            assert "HTTP/1.1 200 OK" in answer and '"main_banners"' in answer
        [stored] = query("SELECT count(*) AS n, min(bot) AS bot FROM events")
        assert stored == {"n": 1, "bot": "crawler: curl"}
        # 3. The demo visit, in a person's browser.
        person = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS,
                                                                            f"--user-agent={PERSON}"])
        context = person.new_context(viewport={"width": 1440, "height": 900})
        page = watched_page(context)
        page.goto(run.url + VISIT[0])
        page.click(".grid a.card[data-click-product=p10]")
        page.wait_for_url("**" + VISIT[1])
        page.goto(run.url + VISIT[2])
        page.click("header >> text=Home")
        page.wait_for_url("**" + VISIT[3])
        page.wait_for_selector(".dc-list-recent .dc-product")
        recent = [a.get_attribute("href").removeprefix(run.url)
                  for a in page.query_selector_all(".dc-list-recent .dc-product")]
        assert recent[:2] == ["/demo/product.html?id=p11", "/demo/product.html?id=p10"]  # the knife, then the pan
        page.click(".dc-list-recent .dc-product >> nth=0")
        page.wait_for_url("**" + VISIT[4])
        page.click("text=Add to cart and view the cart")
        page.click("text=Check out")
        page.click("text=Place the order")
        page.wait_for_url("**" + VISIT[7])
        deadline = time.monotonic() + 30
        while query("SELECT count(*) AS n FROM events WHERE page_load = 1")[0]["n"] < len(VISIT):
            assert time.monotonic() < deadline, query("SELECT type, subtype, page_url FROM events")
            time.sleep(0.2)
        # 4 to 6: the reference data, the imports (a worker runs beside the server), Segment.
        for step in (4, 5, 6):
            for block in _blocks(step):
                shell(block)
        assert query("SELECT name FROM datacue_products WHERE product_id = 'p13'") == [{"name": "Copper kettle"}]
        deadline = time.monotonic() + 60
        while query("SELECT status FROM import_jobs WHERE id = 1")[0]["status"] != "COMPLETED":
            assert time.monotonic() < deadline, query("SELECT * FROM import_jobs")
            time.sleep(0.3)
        # 7. The dashboard, signed in with the development token: the visit of step 3 alone.
        token = run.token_file.read_text().strip()
        page.goto(run.url + "/dashboard")
        page.fill("#token", token)
        page.click("text=Sign in")
        page.goto(run.url + "/dashboard?since=1d")
        cards = {card.get_attribute("data-metric"): card.query_selector(".value").inner_text()
                 for card in page.query_selector_all(".card[data-metric]")}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "tour-dashboard-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.screenshot(path=str(ARTIFACTS / "tour-dashboard-phone.png"), full_page=True)
        assert page.problems == []
        context.close()
        person.close()
        # 8. The store, and the same figures in the overview report.
        for block in _blocks(8):
            shell(block)
        overview = subprocess.run([*collector, "report", "overview", "--since", "1d", "--format", "json"],
                                  env=run.env, capture_output=True, text=True, check=True).stdout
        figures = {row["metric"]: row["value"] for row in json.loads(overview)}
    finally:
        run.stop()
    # Counted by hand: the demo visitor's one visit, a page view per page loaded and the knife bought; step 6's
    # server-sent order, a visit of its own (step 2's curl event is a bot's, step 5's history is October's).
    revenue = KNIFE_PRICE + SEGMENT_ORDER
    assert (cards["visitors"], cards["visits"], cards["pageviews"], cards["orders"]) == ("2", "2", str(len(VISIT)), "2")
    assert cards["revenue"] == f"{revenue:.2f} USD" and cards["conversion_rate"] == "100%"
    assert (figures["visitors"], figures["visits"], figures["pageviews"], figures["orders"]) == (2, 2, len(VISIT), 2)
    assert figures["revenue"] == revenue and figures["conversion_rate"] == 100
    assert f"{run.url}/demo/" in run.banner and "8000" not in run.banner


def test_dev_run_after_the_store_was_deleted_makes_a_new_token_and_does_not_reinstall(tour):
    folder = tour / "again"
    folder.mkdir()
    first = DevRun(folder, free_port()).start()
    first.stop()
    old = first.token_file.read_text().strip()
    for path in folder.glob("collector.sqlite3*"):  # the database, its log, its uploads folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    second = DevRun(folder, free_port()).start()
    try:
        new = second.token_file.read_text().strip()
        assert new != old and _signed_in(second.url, new) and not _signed_in(second.url, old)
    finally:
        second.stop()
    assert "installing into .venv" not in second.banner
    assert f"Dashboard:       {second.url}/dashboard" in second.banner
