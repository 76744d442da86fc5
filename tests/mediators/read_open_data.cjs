// Reads the open-data JSON export (a file, argument 1) with the national cartography's own model
// library, as the cartography does, and prints one JSON line: how many places it read, and the
// id and message of each place it rejected.
const { fromSchemaLieuDeMediationNumerique } = require("@gouvfr-anct/lieux-de-mediation-numerique");
const fs = require("node:fs");

const places = JSON.parse(fs.readFileSync(process.argv[2], "utf-8"));
const rejected = [];
let read = 0;
for (const place of places) {
  try {
    fromSchemaLieuDeMediationNumerique(place);
    read += 1;
  } catch (error) {
    rejected.push({ id: place.id, message: String(error && error.message ? error.message : error) });
  }
}
process.stdout.write(JSON.stringify({ places: places.length, read, rejected }) + "\n");
