"""The site's scan page in Chromium (static/js/scan.js), under the real CSP:

- a pass redeemed by the CAMERA: Chromium's fake camera plays a video of the pass's QR code (the
  URL printed on passes, https://<host>/p/<code>);
- passes redeemed by the keyboard as a USB hand scanner types them (characters, then Enter),
  a refusal, and a service paid with two passes;
- offline: scans queued on the device, shown as pending, then sent when the network is back,
  each with its real outcome; the page reloads offline from the service worker's cache.
"""

import shutil

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from mediators.redemption.models import Redemption, RefusedScan
from passnum.passes import codes
from passnum.passes.models import PassState
from passnum.passes.printing import pass_url, qr_matrix
from tests.browser.a11y import assert_no_violations, audit_page
from tests.browser.conftest import CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS
from tests.browser.support import log_in
from tests.mediators.factories import CatalogueItemFactory, aptic_service, redeemable_booklet, redeeming_site

pytestmark = pytest.mark.browser

SCAN_URL = "/site/scan/"


@pytest.fixture
def place(live_server):
    return redeeming_site()


@pytest.fixture
def booklet(live_server):
    return redeemable_booklet()


def first_passes(booklet, n):
    return list(booklet.passes.order_by("position")[:n])


def scan_page(context, place, live_server):
    log_in(context, place.user, live_server.url)
    page = context.new_page()
    page.goto(SCAN_URL)
    expect(page.locator("html[data-scan-ready]")).to_be_attached()
    return page


def state_of(pass_):
    pass_.refresh_from_db()
    return pass_.state


# --- camera --------------------------------------------------------------------------------------


def qr_video(path, text, *, width=640, height=480, frames=10):
    """A Y4M video (4:2:0) of the QR code of ``text``, as printed on passes, for Chromium's fake camera."""
    matrix = qr_matrix(text)
    module = 10
    quiet = 4
    size = (len(matrix) + 2 * quiet) * module
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    left, top = (width - size) // 2, (height - size) // 2
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                x0, y0 = left + (x + quiet) * module, top + (y + quiet) * module
                draw.rectangle([x0, y0, x0 + module - 1, y0 + module - 1], fill=0)
    luma, blue, red = image.convert("RGB").convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + luma.tobytes() + blue.resize(half).tobytes() + red.resize(half).tobytes()
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        handle.write(frame * frames)
    return path


def test_a_pass_is_redeemed_by_the_camera(playwright_driver, place, booklet, live_server, tmp_path):
    pass_ = first_passes(booklet, 1)[0]
    text = pass_url(settings.SITE_URL, pass_.code)  # what the QR code printed on the pass holds
    assert text.endswith(f"/p/{pass_.code}")
    video = qr_video(tmp_path / "pass.y4m", text)
    camera_browser = playwright_driver.chromium.launch(
        executable_path=shutil.which("chromium"),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(base_url=live_server.url, locale="fr-FR", permissions=["camera"])
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page = scan_page(context, place, live_server)
        console = []
        page.on("console", lambda message: console.append(message.text))
        camera = page.get_by_role("button", name="Scanner avec la caméra")
        expect(camera).to_be_visible()
        camera.click()
        expect(page.locator("#scan-camera video, #scan-alert .scan-result").first).to_be_visible()
        assert page.locator("#scan-alert .scan-result").count() == 0, (
            page.locator("#scan-alert").inner_text(),
            console,
        )
        expect(page.locator("#scan-camera video")).to_be_visible()
        success = page.locator("#scan-status .scan-result-success")
        expect(success).to_contain_text("Pass encaissé", timeout=30_000)
        expect(success).to_contain_text(codes.grouped(pass_.code))
        assert state_of(pass_) == PassState.REDEEMED
        redemption = Redemption.objects.get()
        assert redemption.redeemed_by == place.user and redemption.point_of_presence == place.point
        # The QR code stays in front of the camera: it is not sent again.
        page.wait_for_timeout(1500)
        expect(page.locator("#scan-alert .scan-result")).to_have_count(0)
        assert Redemption.objects.count() == 1 and not RefusedScan.objects.exists()
        page.get_by_role("button", name="Arrêter la caméra").click()
        expect(page.locator("#scan-camera video")).to_have_count(0)
    finally:
        camera_browser.close()


# --- hand scanner and keyboard -----------------------------------------------------------------


def test_passes_are_redeemed_by_the_keyboard(new_context, place, booklet, live_server):
    CatalogueItemFactory(site=place.site, service=aptic_service(2), passes_required=2)
    first, second, third = first_passes(booklet, 3)
    page = scan_page(new_context(bypass_csp=False), place, live_server)
    code_field = page.get_by_label("Code du pass")
    expect(code_field).to_be_focused()

    # A USB hand scanner types the characters, then Enter.
    page.keyboard.type(first.code.lower())
    page.keyboard.press("Enter")
    status = page.locator("#scan-status")
    expect(status.locator(".scan-result-success")).to_contain_text("Pass encaissé")
    expect(status).to_contain_text("Rendez le service à la personne")
    expect(code_field).to_be_focused()
    expect(code_field).to_have_value("")
    assert state_of(first) == PassState.REDEEMED

    # The same pass again: refused, with the French reason and the next action, in an alert.
    page.keyboard.type(codes.grouped(first.code))
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert.locator(".scan-result-refused")).to_contain_text("Encaissement refusé")
    expect(alert).to_contain_text("Ce pass a déjà été encaissé le")
    expect(alert).to_contain_text("demandez un autre pass du carnet")
    expect(code_field).to_be_focused()
    assert_no_violations(audit_page(page, role="site", label="scan : refus"))

    # A service paid with two passes: the first is kept, both are sent together.
    page.get_by_label("Service rendu").select_option(str(aptic_service(2).code))
    code_field.focus()
    page.keyboard.type(second.code)
    page.keyboard.press("Enter")
    expect(status).to_contain_text("1 pass sur 2")
    expect(page.locator("#scan-collected")).to_contain_text(codes.grouped(second.code))
    assert state_of(second) == PassState.ACTIVE
    page.keyboard.type(third.code)
    page.keyboard.press("Enter")
    expect(status.locator(".scan-result-success")).to_contain_text("2 pass encaissés")
    expect(page.locator("#scan-collected")).to_be_hidden()
    assert state_of(second) == state_of(third) == PassState.REDEEMED
    assert Redemption.objects.filter(pass_count=2).count() == 1

    # The place and the service are remembered on this device.
    page.reload()
    expect(page.get_by_label("Service rendu")).to_have_value(str(aptic_service(2).code))


def test_the_scan_page_at_640px_without_horizontal_scrolling(new_context, place, live_server):
    page = scan_page(new_context(viewport={"width": 640, "height": 900}), place, live_server)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


# --- offline -----------------------------------------------------------------------------------


def test_scans_made_offline_are_sent_when_the_network_is_back(new_context, place, booklet, live_server):
    first, second = first_passes(booklet, 2)
    context = new_context(bypass_csp=False)
    page = scan_page(context, place, live_server)
    page.evaluate("() => navigator.serviceWorker.ready")
    code_field = page.get_by_label("Code du pass")

    context.set_offline(True)
    queue = page.locator("#scan-queue-list li")
    for count, pass_ in enumerate((first, second, first), start=1):  # the first pass twice: refused once sent
        code_field.fill(pass_.code)
        code_field.press("Enter")
        expect(page.locator("#scan-status .scan-result-pending")).to_contain_text("Scan mis en attente")
        # The status already said « mis en attente » for the scan before: wait for this one in the queue.
        expect(queue).to_have_count(count)
    expect(page.locator("#scan-network")).to_contain_text("Hors connexion")
    expect(queue).to_have_count(3)
    expect(page.locator("#scan-queue-list .scan-queue-pending")).to_have_count(3)
    expect(queue.first).to_contain_text("En attente d'envoi")
    expect(page.locator("#scan-queue-summary")).to_contain_text("3 scans en attente d'envoi")
    assert not Redemption.objects.exists()

    context.set_offline(False)
    expect(page.locator("#scan-queue-list .scan-queue-pending")).to_have_count(0)
    expect(queue.nth(0)).to_contain_text("Encaissé")
    expect(queue.nth(0)).to_contain_text(codes.grouped(first.code))
    expect(queue.nth(1)).to_contain_text("Encaissé")
    expect(queue.nth(2)).to_contain_text("Refusé")
    expect(queue.nth(2)).to_contain_text("Ce pass a déjà été encaissé")
    expect(page.get_by_role("alert")).to_contain_text("2 encaissés, 1 refusé")
    expect(page.locator("#scan-network")).to_be_hidden()
    assert state_of(first) == state_of(second) == PassState.REDEEMED
    assert Redemption.objects.count() == 2
    assert RefusedScan.objects.get().reason == "pass_already_redeemed"
    assert_no_violations(audit_page(page, role="site", label="scan : file hors connexion"))
    # Each scan kept the time it was made offline.
    assert all(r.scanned_at <= r.redeemed_at for r in Redemption.objects.all())


def test_codes_typed_in_quick_succession_offline_are_all_kept(new_context, place, booklet, live_server):
    """A hand scanner types code + Enter faster than a scan is stored: no code is dropped."""
    passes = first_passes(booklet, 3)
    context = new_context(bypass_csp=False)
    page = scan_page(context, place, live_server)
    code_field = page.get_by_label("Code du pass")

    context.set_offline(True)
    # Three codes entered in the same instant, as a fast hand scanner does: the second and third
    # arrive while the first is still being stored.
    page.evaluate(
        """codes => {
            const form = document.getElementById("scan-form");
            for (const code of codes) {
                form.elements.code.value = code;
                form.requestSubmit();
            }
        }""",
        [pass_.code for pass_ in passes],
    )
    queue = page.locator("#scan-queue-list li")
    expect(queue).to_have_count(3)
    expect(page.locator("#scan-queue-summary")).to_contain_text("3 scans en attente d'envoi")
    expect(code_field).to_have_value("")

    context.set_offline(False)
    expect(page.locator("#scan-queue-list .scan-queue-success")).to_have_count(3)
    assert Redemption.objects.count() == 3


def test_the_page_reloads_offline_and_keeps_scanning(new_context, place, booklet, live_server):
    pass_ = first_passes(booklet, 1)[0]
    context = new_context(bypass_csp=False)
    page = scan_page(context, place, live_server)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.reload()  # now controlled by the service worker, which stores the page
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("html[data-scan-ready]")).to_be_attached()
    code_field = page.get_by_label("Code du pass")
    code_field.fill(pass_.code)
    code_field.press("Enter")
    expect(page.locator("#scan-status .scan-result-pending")).to_be_visible()
    context.set_offline(False)
    expect(page.locator("#scan-queue-list .scan-queue-success")).to_have_count(1)
    assert state_of(pass_) == PassState.REDEEMED
