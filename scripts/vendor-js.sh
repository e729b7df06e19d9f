#!/usr/bin/env bash
# Refresh the front-end libraries vendored into the package's static folder.
# Pages must work with no internet, so nothing is loaded from a CDN: each library is
# taken from its npm package (pinned below) with its licence. Run from the project root.
set -euo pipefail

LEAFLET=1.9.4
HTMX=2.0.11
CHARTJS=4.6.1
SWAGGER=5.35.0

dest=src/smart_policing/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked package folder on stdout
    (cd "$work" && npm pack --silent "$1@$2" >/dev/null)
    local tgz
    tgz=$(ls "$work"/*.tgz)
    mkdir -p "$work/$1"
    tar -xzf "$tgz" -C "$work/$1" --strip-components=1
    rm "$tgz"
    echo "$work/$1"
}

rm -rf "$dest"
mkdir -p "$dest"/{leaflet/images,htmx,chartjs,swagger-ui}

p=$(fetch leaflet "$LEAFLET")
cp "$p/dist/leaflet.js" "$p/dist/leaflet.css" "$p/LICENSE" "$dest/leaflet/"
cp "$p"/dist/images/*.png "$dest/leaflet/images/"

p=$(fetch htmx.org "$HTMX")
cp "$p/dist/htmx.min.js" "$p/LICENSE" "$dest/htmx/"

p=$(fetch chart.js "$CHARTJS")
cp "$p/dist/chart.umd.js" "$p/LICENSE.md" "$dest/chartjs/"

p=$(fetch swagger-ui-dist "$SWAGGER")
cp "$p/swagger-ui-bundle.js" "$p/swagger-ui.css" "$p/LICENSE" "$dest/swagger-ui/"

cat > "$dest/VERSIONS.txt" <<TXT
Vendored by scripts/vendor-js.sh from the npm registry; do not edit by hand.
leaflet $LEAFLET (BSD-2-Clause)
htmx.org $HTMX (0BSD)
chart.js $CHARTJS (MIT)
swagger-ui-dist $SWAGGER (Apache-2.0)
TXT
echo "vendored into $dest"
