#!/bin/sh
# macOS: Minutes.app (from installers/minutes.spec's BUNDLE step) into a .dmg. UNTESTED: written
# on Linux, where neither PyInstaller's macOS build nor hdiutil can run.
#   python installers/build.py --variant runtime --no-packages   # makes dist/.../Minutes.app
#   sh installers/macos/make_dmg.sh
# Sign and notarize before giving it to others (codesign --deep -s "Developer ID ..."; xcrun
# notarytool); an unsigned app opens only through right-click > Open.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APP=$(find "$ROOT/build" "$ROOT/dist" -maxdepth 3 -name Minutes.app -type d | head -n 1)
[ -n "$APP" ] || { echo "no Minutes.app: run installers/build.py first" >&2; exit 1; }
STAGE=$(mktemp -d)
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"   # drag the app onto it
hdiutil create -volname Minutes -srcfolder "$STAGE" -ov -format UDZO "$ROOT/dist/Minutes-0.1.0.dmg"
rm -rf "$STAGE"
echo "$ROOT/dist/Minutes-0.1.0.dmg"
