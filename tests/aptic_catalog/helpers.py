import csv
import io

from aptic_catalog.services import BUNDLED_FILE


def bundled_lines():
    """The bundled referential as a list of text lines (header first), line endings dropped."""
    return BUNDLED_FILE.read_text(encoding="utf-8").splitlines()


def as_csv(lines):
    return "\n".join(lines) + "\n"


def replace_cell(line, column_index, value):
    """The CSV ``line`` with the cell at ``column_index`` replaced by ``value``."""
    cells = next(csv.reader([line]))
    cells[column_index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def shown_codes(levels):
    """The service codes of a ``referential_tree()``, in display order."""
    return [s.code for level in levels for sub in level.subcategory_list for s in sub.service_list]
