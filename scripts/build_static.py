"""Copies the front-end packages installed by npm (package-lock.json) into static/vendor/.

Vendor files are never committed: this script, run by `make`, is the only way they get there.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

# destination in static/vendor  ←  file in node_modules
FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "axe.min.js": "axe-core/axe.min.js",
    "chart.js/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "chart.js/chart.umd.min.js.map": "chart.js/dist/chart.umd.min.js.map",
    "qr-scanner/qr-scanner.umd.min.js": "qr-scanner/qr-scanner.umd.min.js",
    "qr-scanner/qr-scanner.umd.min.js.map": "qr-scanner/qr-scanner.umd.min.js.map",
    "qr-scanner/qr-scanner-worker.min.js": "qr-scanner/qr-scanner-worker.min.js",
    "qr-scanner/qr-scanner-worker.min.js.map": "qr-scanner/qr-scanner-worker.min.js.map",
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.js.map": "leaflet/dist/leaflet.js.map",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/images/marker-icon.png": "leaflet/dist/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png": "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png": "leaflet/dist/images/marker-shadow.png",
    "leaflet/images/layers.png": "leaflet/dist/images/layers.png",
    "leaflet/images/layers-2x.png": "leaflet/dist/images/layers-2x.png",
}


def main():
    VENDOR.mkdir(parents=True, exist_ok=True)
    missing = []
    for destination, source in FILES.items():
        source_path = NODE_MODULES / source
        if not source_path.exists():
            missing.append(source)
            continue
        target = VENDOR / destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path, target)
    if missing:
        sys.exit("Fichiers introuvables dans node_modules (lancez npm ci) : " + ", ".join(missing))


if __name__ == "__main__":
    main()
