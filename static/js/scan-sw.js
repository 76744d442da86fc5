/* Service worker of the site's scan page, so that the page reloads without network.

   Served by mediators.views.scan_service_worker at /site/scan/sw.js (its scope is the scan
   page), which puts before this file:
     const PASSNUM_SCAN = {cache, page, static, files};
   - the page: from the network first (fresh CSRF token, choices), from the cache offline;
   - its static files (``files``, and any other file under ``static`` the page loads): from the
     cache, refreshed in the background;
   - everything else, and every POST (the redemptions), goes to the network untouched: offline,
     the page itself keeps the scans in IndexedDB (static/js/scan.js).
*/
/* global PASSNUM_SCAN */

const CACHE = PASSNUM_SCAN.cache;
const PAGE = PASSNUM_SCAN.page;
const STATIC = PASSNUM_SCAN.static;

async function cachePage(cache) {
  try {
    const response = await fetch(PAGE, {credentials: "same-origin", cache: "no-store"});
    if (response.ok && !response.redirected) await cache.put(PAGE, response);
  } catch (error) {
    /* offline: the next visit stores it */
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(PASSNUM_SCAN.files.map((url) => cache.add(url).catch(() => undefined)));
      await cachePage(cache);
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("passnum-scan-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })()
  );
});

const OFFLINE_PAGE = `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hors connexion — Passnum</title></head>
<body><main><h1>Hors connexion</h1><p>La page de scan n'est pas encore enregistrée sur cet appareil :
ouvrez-la une fois avec du réseau pour pouvoir scanner hors connexion.</p></main></body></html>`;

async function pageResponse(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && !url.search) {
      const cache = await caches.open(CACHE);
      await cache.put(PAGE, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(PAGE, {cacheName: CACHE});
    return (
      cached ||
      new Response(OFFLINE_PAGE, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}})
    );
  }
}

async function fileResponse(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(event.request);
  const fresh = fetch(event.request)
    .then((response) => {
      if (response.ok) return cache.put(event.request, response.clone()).then(() => response);
      return response;
    })
    .catch(() => undefined);
  if (cached) {
    event.waitUntil(fresh);
    return cached;
  }
  return (await fresh) || Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(pageResponse(request, url));
  } else if (url.pathname.startsWith(STATIC)) {
    event.respondWith(fileResponse(event));
  }
});
