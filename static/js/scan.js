/* The site's scan page (/site/scan/, templates/mediators/scan.html).

   Without this script the page works: its form posts to the server. With it:
   - a pass is entered by the camera (qr-scanner), a USB hand scanner (keystrokes ending in Enter
     in the focused code field) or the keyboard; the QR code's URL https://<host>/p/<code> is
     read as its code;
   - a service paid with several passes collects them, then sends them together;
   - each scan goes to POST /api/v1/redemptions with a fresh Idempotency-Key and its scanned_at;
     the answer is shown at once: colour, icon, words, a sound and a vibration, the next action;
   - without network, scans wait in IndexedDB (with their key, time and body), are listed as
     pending and sent in order when the network is back; each then shows its real outcome;
   - a service worker (/site/scan/sw.js) keeps the page and its files for offline reloads;
   - the place and the service are remembered on the device (localStorage).
*/
(function () {
  "use strict";

  const configElement = document.getElementById("scan-config");
  const form = document.getElementById("scan-form");
  if (!configElement || !form) return;
  const config = JSON.parse(configElement.textContent);
  const byId = (id) => document.getElementById(id);

  const codeInput = form.elements.code;
  const pointSelect = form.elements.point_of_presence;
  const serviceSelect = form.elements.service;
  const shareInput = form.elements.beneficiary_share;
  const statusRegion = byId("scan-status");
  const alertRegion = byId("scan-alert");
  const networkNote = byId("scan-network");
  const cameraButton = byId("scan-camera-toggle");
  const cameraSection = byId("scan-camera");
  const cameraView = byId("scan-camera-view");
  const collectedBox = byId("scan-collected");
  const collectedList = byId("scan-collected-list");
  const queueSection = byId("scan-queue");
  const queueSummary = byId("scan-queue-summary");
  const queueList = byId("scan-queue-list");
  let csrfToken = form.elements.csrfmiddlewaretoken.value;

  const RETRY_MS = 15000;
  const REQUEST_TIMEOUT_MS = 20000;
  const KEEP_SENT = 50;

  // --- codes -----------------------------------------------------------------------------

  /** The code in what was scanned or typed: the QR code holds https://<host>/p/<code>. */
  function readCode(text) {
    text = (text || "").trim();
    const match = text.match(/\/p\/([^/?#\s]+)\/?(?:[?#].*)?$/);
    if (match) {
      try {
        text = decodeURIComponent(match[1]);
      } catch (error) {
        text = match[1];
      }
    }
    return text;
  }

  /** Same normalisation as passnum/passes/codes.py (to tell the same pass scanned twice). */
  function compact(text) {
    return text.replace(/[\s\-_.]+/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  }

  function display(text) {
    const code = compact(text);
    if (code.length !== 13) return text.slice(0, 40);
    return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8, 12)}-${code.slice(12)}`;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function euros(cents) {
    return `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, "0")} €`;
  }

  function dateTime(iso) {
    const date = new Date(iso);
    const day = date.toLocaleDateString("fr-FR");
    const time = date.toLocaleTimeString("fr-FR", {hour: "2-digit", minute: "2-digit"});
    return `${day} à ${time}`;
  }

  // --- the place and the service, remembered on this device ------------------------------

  const CHOICE_KEY = `passnum-scan-choice-${config.organisation}`;

  function selectIfPresent(select, value) {
    if (value != null && Array.from(select.options).some((option) => option.value === String(value))) {
      select.value = String(value);
    }
  }

  function restoreChoice() {
    try {
      const saved = JSON.parse(localStorage.getItem(CHOICE_KEY) || "null");
      if (saved) {
        selectIfPresent(pointSelect, saved.point);
        selectIfPresent(serviceSelect, saved.service);
      }
    } catch (error) {
      /* no storage: the server's choice stays */
    }
  }

  function saveChoice() {
    try {
      localStorage.setItem(CHOICE_KEY, JSON.stringify({point: pointSelect.value, service: serviceSelect.value}));
    } catch (error) {
      /* no storage */
    }
  }

  function passesRequired() {
    return config.passes_required[serviceSelect.value] || 1;
  }

  // --- feedback: panel, sound, vibration --------------------------------------------------

  const ICONS = {success: "✔", refused: "✖", pending: "◷", info: "ℹ", collecting: "ℹ"};

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function resultPanel(outcome) {
    const panel = element("div", `scan-result scan-result-${outcome.kind}`);
    const icon = element("p", "scan-result-icon", ICONS[outcome.kind] || "ℹ");
    icon.setAttribute("aria-hidden", "true");
    const body = element("div", "scan-result-body");
    body.append(element("p", "scan-result-title", outcome.title));
    if (outcome.message) body.append(element("p", "scan-result-message", outcome.message));
    if (outcome.details && outcome.details.length) {
      const list = element("ul", "scan-result-details");
      for (const line of outcome.details) list.append(element("li", null, line));
      body.append(list);
    }
    if (outcome.next) {
      const next = element("p", "scan-result-next");
      next.append(element("strong", null, "Et maintenant :"), ` ${outcome.next}`);
      body.append(next);
    }
    panel.append(icon, body);
    return panel;
  }

  function show(outcome) {
    const urgent = outcome.kind === "refused";
    (urgent ? statusRegion : alertRegion).replaceChildren();
    (urgent ? alertRegion : statusRegion).replaceChildren(resultPanel(outcome));
    document.documentElement.dataset.scanResult = outcome.kind;
  }

  let audio = null;
  const TONES = {
    success: {type: "sine", notes: [[880, 0, 0.12], [1320, 0.14, 0.18]]},
    refused: {type: "square", notes: [[220, 0, 0.25], [180, 0.3, 0.35]]},
    pending: {type: "triangle", notes: [[660, 0, 0.15]]},
    collecting: {type: "sine", notes: [[990, 0, 0.1]]},
  };

  function signal(kind) {
    const tone = TONES[kind];
    if (!tone) return;
    try {
      const AudioContext = window.AudioContext || window.webkitAudioContext;
      audio = audio || new AudioContext();
      if (audio.state === "suspended") audio.resume();
      const now = audio.currentTime;
      for (const [frequency, start, duration] of tone.notes) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = tone.type;
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.25, now + start);
        gain.gain.exponentialRampToValueAtTime(0.001, now + start + duration);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(now + start);
        oscillator.stop(now + start + duration + 0.02);
      }
    } catch (error) {
      /* no sound on this device: the panel says it all */
    }
    if (navigator.vibrate) {
      try {
        navigator.vibrate(kind === "success" ? 150 : kind === "refused" ? [300, 120, 300] : 60);
      } catch (error) {
        /* no vibration */
      }
    }
  }

  function successOutcome(body) {
    const count = body.pass_count;
    const details = [
      `Pass ${body.codes.join(", ")}`,
      `${body.service.title} — ${body.point_of_presence.name}`,
      `Remboursé à la structure : ${euros(body.amount_cents)}`,
    ];
    if (body.beneficiary_share_cents) {
      details.push(`Reste à charge payé par la personne : ${euros(body.beneficiary_share_cents)}`);
    }
    details.push(`Annulable jusqu'au ${dateTime(body.undo_until)}`);
    return {
      kind: "success",
      title: count === 1 ? "Pass encaissé" : `${count} pass encaissés`,
      details,
      next: config.next_actions.success,
    };
  }

  function refusalOutcome(error, title) {
    const codes = error.codes || [];
    return {
      kind: "refused",
      title: title || "Encaissement refusé",
      message: error.message || "Le serveur a refusé ce scan.",
      details: codes.length ? [`Pass en cause : ${codes.join(", ")}`] : [],
      next: config.next_actions[error.code] || config.default_next,
      code: error.code,
    };
  }

  function focusCode() {
    if (!cameraOn) codeInput.focus();
  }

  // --- entering passes --------------------------------------------------------------------

  let collected = (form.elements.collected.value || "").split(/\s+/).filter(Boolean);

  function renderCollected() {
    collectedList.replaceChildren(...collected.map((code) => element("li", null, display(code))));
    collectedBox.hidden = collected.length === 0;
    form.elements.collected.value = collected.join(" ");
  }

  function resetCollected() {
    collected = [];
    renderCollected();
  }

  /** The beneficiary's share in cents: null when empty, undefined when not an amount. */
  function readShare() {
    const text = shareInput.value.replace(/[€\s\u00a0]/g, "").replace(",", ".");
    if (!text) return null;
    if (!/^\d{1,6}(\.\d{1,2})?$/.test(text)) return undefined;
    return Math.round(parseFloat(text) * 100);
  }

  function shareError(message) {
    const errorId = `${shareInput.id}_error`;
    let box = byId(errorId);
    if (message) {
      if (!box) {
        box = element("div", "field-errors");
        box.id = errorId;
        shareInput.before(box);
      }
      box.textContent = message;
      shareInput.setAttribute("aria-invalid", "true");
      const described = new Set((shareInput.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      described.add(errorId);
      shareInput.setAttribute("aria-describedby", Array.from(described).join(" "));
    } else if (box) {
      box.remove();
      shareInput.removeAttribute("aria-invalid");
    }
  }

  let busy = false;

  async function enter(raw) {
    const share = readShare();
    if (share === undefined) {
      const message = "Indiquez un montant en euros, par exemple 2,50 (ou laissez vide).";
      shareError(message);
      show({kind: "refused", title: "Reste à charge à corriger", message, next: "Corrigez le montant, puis scannez à nouveau."});
      signal("refused");
      shareInput.focus();
      return false;
    }
    shareError(null);
    const text = readCode(raw);
    if (!text) {
      show({kind: "refused", title: "Aucun code", message: "Scannez le pass ou tapez son code.", next: config.default_next});
      signal("refused");
      focusCode();
      return true;
    }
    if (collected.some((code) => compact(code) === compact(text))) {
      show({
        kind: "refused",
        title: "Pass déjà scanné",
        message: "Ce pass est déjà scanné pour ce service.",
        next: config.next_actions.already_collected,
      });
      signal("refused");
      focusCode();
      return true;
    }
    const required = passesRequired();
    collected.push(text);
    if (collected.length < required) {
      renderCollected();
      show({
        kind: "collecting",
        title: `${collected.length} pass sur ${required}`,
        details: [`Pass ${collected.map(display).join(", ")}`],
        next: `Scannez le pass suivant du même carnet (encore ${required - collected.length}).`,
      });
      signal("collecting");
      focusCode();
      return true;
    }
    const scan = {
      key: newKey(),
      organisation: config.organisation,
      created: Date.now(),
      state: "pending",
      body: {
        codes: collected.slice(),
        service: Number(serviceSelect.value),
        point_of_presence: Number(pointSelect.value),
        scanned_at: new Date().toISOString(),
      },
    };
    if (share !== null) scan.body.beneficiary_share_cents = share;
    resetCollected();
    shareInput.value = "";
    busy = true;
    try {
      await submit(scan);
    } finally {
      busy = false;
      focusCode();
    }
    return true;
  }

  // A code typed (or sent by a hand scanner) while the previous one is still being sent or stored
  // waits its turn instead of being dropped: entries are handled one after the other, in order.
  let entries = Promise.resolve();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = codeInput.value;
    codeInput.value = "";
    entries = entries.then(async () => {
      const consumed = await enter(value);
      if (!consumed && !codeInput.value) codeInput.value = value;
    });
  });

  serviceSelect.addEventListener("change", () => {
    if (collected.length) resetCollected();
    saveChoice();
  });
  pointSelect.addEventListener("change", saveChoice);
  byId("scan-restart").addEventListener("click", (event) => {
    event.preventDefault();
    resetCollected();
    show({kind: "info", title: "Saisie recommencée", next: "Scannez le premier pass."});
    focusCode();
  });

  // --- sending to the API -----------------------------------------------------------------

  /** A fresh CSRF token (the page may come from the service worker's cache). */
  async function refreshCsrf() {
    try {
      const response = await fetch(config.page, {credentials: "same-origin", cache: "no-store"});
      if (!response.ok || response.redirected) return false;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const input = page.querySelector("input[name=csrfmiddlewaretoken]");
      if (!input) return false;
      csrfToken = input.value;
      form.elements.csrfmiddlewaretoken.value = csrfToken;
      return true;
    } catch (error) {
      return false;
    }
  }

  /** POSTs a scan: ``{status, data}``; throws when the network is down. */
  async function post(scan, retried) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(config.api, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": scan.key,
          "X-CSRFToken": csrfToken,
        },
        body: JSON.stringify(scan.body),
      });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.status === 403 && !retried && (await refreshCsrf())) return post(scan, true);
    return {status: response.status, data};
  }

  /** An answer → an outcome, or ``{retry: message}`` when the scan must wait (not a verdict). */
  function verdict(answer, queued) {
    const error = answer.data && answer.data.error;
    if (answer.status === 201 && answer.data) return successOutcome(answer.data);
    if (answer.status === 401) {
      return {retry: "Votre session a expiré : reconnectez-vous. Les scans restent en attente sur cet appareil."};
    }
    if (answer.status >= 500 || !error) {
      return {retry: "Le serveur ne répond pas correctement : les scans restent en attente et seront renvoyés."};
    }
    if (answer.status === 429 && queued) return {retry: error.message};
    return refusalOutcome(error);
  }

  async function submit(scan) {
    if (!navigator.onLine || (await hasPending())) {
      await queueScan(scan);
      return;
    }
    let answer;
    try {
      answer = await post(scan);
    } catch (error) {
      await queueScan(scan);
      return;
    }
    const outcome = verdict(answer, false);
    if (outcome.retry) {
      await queueScan(scan, outcome.retry);
      return;
    }
    show(outcome);
    signal(outcome.kind);
  }

  // --- the offline queue (IndexedDB, or memory when it is not available) --------------------

  const store = (function () {
    const memory = new Map();
    let database = null;

    function open() {
      if (database) return database;
      database = new Promise((resolve) => {
        if (!window.indexedDB) return resolve(null);
        let request;
        try {
          request = indexedDB.open("passnum-scan", 1);
        } catch (error) {
          return resolve(null);
        }
        request.onupgradeneeded = () => request.result.createObjectStore("scans", {keyPath: "key"});
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
      });
      return database;
    }

    /** Runs ``inDatabase(objectStore)`` in a transaction, or ``inMemory()`` without IndexedDB. */
    async function run(mode, inDatabase, inMemory) {
      const db = await open();
      if (!db) return inMemory();
      return new Promise((resolve, reject) => {
        const transaction = db.transaction("scans", mode);
        const request = inDatabase(transaction.objectStore("scans"));
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = () => reject(transaction.error);
      });
    }

    return {
      async all() {
        const items = await run(
          "readonly",
          (scans) => scans.getAll(),
          () => Array.from(memory.values())
        );
        return (items || [])
          .filter((item) => item.organisation === config.organisation)
          .sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : 1));
      },
      put: (item) =>
        run(
          "readwrite",
          (scans) => scans.put(item),
          () => memory.set(item.key, item)
        ),
      remove: (key) =>
        run(
          "readwrite",
          (scans) => scans.delete(key),
          () => memory.delete(key)
        ),
    };
  })();

  async function hasPending() {
    return (await store.all()).some((item) => item.state === "pending");
  }

  let lastCreated = 0;

  async function queueScan(scan, reason) {
    scan.created = Math.max(scan.created, lastCreated + 1); // keeps the order of scans in the same millisecond
    lastCreated = scan.created;
    await store.put(scan);
    const pending = (await store.all()).filter((item) => item.state === "pending").length;
    show({
      kind: "pending",
      title: "Scan mis en attente",
      message: reason || "Pas de connexion : le scan est gardé sur cet appareil.",
      details: [`Pass ${scan.body.codes.map(display).join(", ")}`, `${pending} scan${pending > 1 ? "s" : ""} en attente d'envoi`],
      next: "Le pass sera envoyé dès le retour du réseau : vous verrez alors s'il est encaissé. Scannez le pass suivant.",
    });
    signal("pending");
    await renderQueue();
    if (navigator.onLine && !reason) sync();
  }

  const STATE_LABELS = {pending: "En attente d'envoi", success: "Encaissé", refused: "Refusé"};

  async function renderQueue() {
    let items = await store.all();
    const sent = items.filter((item) => item.state !== "pending");
    for (const old of sent.slice(0, Math.max(0, sent.length - KEEP_SENT))) await store.remove(old.key);
    if (sent.length > KEEP_SENT) items = await store.all();
    queueSection.hidden = items.length === 0;
    const pending = items.filter((item) => item.state === "pending").length;
    queueSummary.textContent = pending
      ? `${pending} scan${pending > 1 ? "s" : ""} en attente d'envoi.`
      : "Tous les scans faits hors connexion ont été envoyés.";
    queueList.replaceChildren(
      ...items.map((item) => {
        const kind = item.state === "pending" ? "pending" : item.outcome.kind;
        const entry = element("li", `scan-queue-item scan-queue-${kind}`);
        entry.dataset.key = item.key;
        entry.append(
          element("span", "scan-queue-state", STATE_LABELS[kind]),
          ` Pass ${item.body.codes.map(display).join(", ")}, scanné le ${dateTime(item.body.scanned_at)}`
        );
        if (item.state !== "pending") {
          const text = kind === "success" ? item.outcome.details.slice(1, 3).join(", ") : item.outcome.message;
          entry.append(element("span", "scan-queue-outcome", ` — ${text}`));
        }
        return entry;
      })
    );
  }

  let syncing = false;

  /** Sends the pending scans in order; stops at the first one that cannot be sent yet. */
  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    const results = [];
    let stopped = null;
    try {
      for (const item of await store.all()) {
        if (item.state !== "pending") continue;
        let answer;
        try {
          answer = await post(item);
        } catch (error) {
          stopped = "La connexion est encore instable : nouvel essai dans quelques secondes.";
          break;
        }
        const outcome = verdict(answer, true);
        if (outcome.retry) {
          stopped = outcome.retry;
          break;
        }
        item.state = "done";
        item.outcome = outcome;
        item.sent = Date.now();
        await store.put(item);
        results.push(outcome);
        await renderQueue();
      }
    } finally {
      syncing = false;
    }
    updateNetwork(stopped);
    if (results.length) {
      const refused = results.filter((outcome) => outcome.kind === "refused").length;
      const redeemed = results.length - refused;
      const summary = `${redeemed} encaissé${redeemed > 1 ? "s" : ""}, ${refused} refusé${refused > 1 ? "s" : ""}`;
      show({
        kind: refused ? "refused" : "success",
        title: `Scans hors connexion envoyés : ${summary}`,
        details: results.map((outcome) => `${outcome.title}${outcome.message ? ` : ${outcome.message}` : ""}`),
        next: refused
          ? "Voyez la liste des scans faits hors connexion : un pass refusé ne peut pas payer le service."
          : config.next_actions.success,
      });
      signal(refused ? "refused" : "success");
    }
  }

  function updateNetwork(problem) {
    const message = !navigator.onLine
      ? "Hors connexion : les scans sont gardés sur cet appareil et seront envoyés au retour du réseau."
      : problem;
    networkNote.textContent = message || "";
    networkNote.hidden = !message;
  }

  byId("scan-queue-send").addEventListener("click", () => sync());
  byId("scan-queue-clear").addEventListener("click", async () => {
    for (const item of await store.all()) if (item.state !== "pending") await store.remove(item.key);
    await renderQueue();
  });
  window.addEventListener("online", () => {
    updateNetwork(null);
    sync();
  });
  window.addEventListener("offline", () => updateNetwork(null));
  setInterval(() => {
    if (navigator.onLine) sync();
  }, RETRY_MS);

  // --- the camera -------------------------------------------------------------------------

  let scanner = null;
  let cameraOn = false;
  let lastRead = {text: "", at: 0};

  function onDecoded(result) {
    const text = typeof result === "string" ? result : result && result.data;
    if (!text) return;
    const now = Date.now();
    if (text === lastRead.text) {
      // The same QR code still in front of the camera: read once, until it has been away 3 s.
      const away = now - lastRead.at;
      lastRead.at = now;
      if (away < 3000) return;
    }
    if (busy) return;
    lastRead = {text, at: now};
    enter(text);
  }

  async function startCamera() {
    const video = element("video");
    video.muted = true;
    video.setAttribute("muted", "");
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-describedby", "scan-camera-help");
    video.setAttribute("aria-label", "Image de la caméra");
    cameraView.replaceChildren(video);
    cameraSection.hidden = false;
    try {
      scanner = new window.QrScanner(video, onDecoded, {
        preferredCamera: "environment",
        returnDetailedScanResult: true,
        highlightScanRegion: true,
        maxScansPerSecond: 10,
      });
      await scanner.start();
    } catch (error) {
      stopCamera();
      show({
        kind: "refused",
        title: "Caméra indisponible",
        message: "Autorisez l'accès à la caméra dans le navigateur, ou utilisez la douchette ou le clavier.",
        next: "Tapez le code du pass dans le champ « Code du pass ».",
      });
      codeInput.focus();
      return;
    }
    cameraOn = true;
    cameraButton.textContent = "Arrêter la caméra";
    cameraButton.setAttribute("aria-expanded", "true");
  }

  function stopCamera() {
    if (scanner) {
      scanner.stop();
      scanner.destroy();
      scanner = null;
    }
    cameraView.replaceChildren();
    cameraSection.hidden = true;
    cameraOn = false;
    cameraButton.textContent = "Scanner avec la caméra";
    cameraButton.setAttribute("aria-expanded", "false");
  }

  async function setUpCamera() {
    if (!window.QrScanner || !navigator.mediaDevices) return;
    let available = false;
    try {
      available = await window.QrScanner.hasCamera();
    } catch (error) {
      available = false;
    }
    if (!available) return;
    cameraButton.hidden = false;
    cameraButton.addEventListener("click", () => (cameraOn ? stopCamera() : startCamera()));
  }

  // --- start ------------------------------------------------------------------------------

  restoreChoice();
  renderCollected();
  updateNetwork(null);
  renderQueue().then(() => sync());
  setUpCamera();
  if ("serviceWorker" in navigator && config.service_worker) {
    navigator.serviceWorker.register(config.service_worker, {scope: config.page}).catch(() => undefined);
  }
  document.documentElement.dataset.scanReady = "true";
})();
