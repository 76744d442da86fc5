"""Reads the referential as the npm package ``@etalab/decoupage-administratif`` ships it
(``package.json``, ``data/departements.json``, ``data/communes.json``), from the folder
``settings.PASSNUM_TERRITORIES_DIR`` (``node_modules`` in development, a copy in the image).

Kept: every department of ``departements.json`` — the 101 departments and the overseas
collectivities coded like departments: Saint-Pierre-et-Miquelon (975), Saint-Barthélemy (977),
Saint-Martin (978), the French Southern Lands (984), Wallis-et-Futuna (986), French Polynesia
(987), New Caledonia (988), Clipperton (989) — and, in them, the current communes and the
municipal districts of Paris, Lyon and Marseille (the code an address there carries). Left out:
delegated and associated communes (former communes, no longer current).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mediators.places.search import fold

KEPT_TYPES = {"commune-actuelle", "arrondissement-municipal"}


class ReferentialMissing(Exception):
    pass


@dataclass(frozen=True)
class Referential:
    source_name: str
    sha256: str
    departments: list  # [(code, name, zone)]
    communes: list  # [(code, name, department, " postcodes ", folded name)]


def source_dir() -> Path:
    return Path(settings.PASSNUM_TERRITORIES_DIR)


def read_referential(*, folder: Path | None = None) -> Referential:
    folder = Path(folder or source_dir())
    try:
        package = json.loads((folder / "package.json").read_text())
        departments_bytes = (folder / "data" / "departements.json").read_bytes()
        communes_bytes = (folder / "data" / "communes.json").read_bytes()
    except FileNotFoundError as exc:
        raise ReferentialMissing(
            f"Référentiel des communes introuvable dans {folder} : lancez « make install » (npm ci), "
            "ou donnez son dossier dans PASSNUM_TERRITORIES_DIR."
        ) from exc
    departments = [(d["code"], d["nom"], d["zone"]) for d in json.loads(departments_bytes)]
    kept = {code for code, _name, _zone in departments}
    communes = [
        (
            c["code"],
            c["nom"],
            c["departement"],
            " " + " ".join(sorted(set(c.get("codesPostaux") or []))) + " ",
            fold(c["nom"]),
        )
        for c in json.loads(communes_bytes)
        if c.get("type") in KEPT_TYPES and c.get("departement") in kept
    ]
    sha256 = hashlib.sha256(departments_bytes + communes_bytes).hexdigest()
    return Referential(
        source_name=f"{package['name']} {package['version']}",
        sha256=sha256,
        departments=departments,
        communes=communes,
    )
