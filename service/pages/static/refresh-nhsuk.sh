#!/usr/bin/env bash
# Re-vendor the compiled NHS design system (nhsuk-frontend) that the pages use, from the npm registry.
# Usage: service/pages/static/refresh-nhsuk.sh 10.6.1   (needs npm; running Waymark never does)
#
# Keep the version in step with nhsuk-frontend-jinja (its README lists the matching releases), then
# run the page tests. The stylesheet is adjusted for a closed network: its web fonts come from a CDN
# (assets.nhs.uk), so those @font-face rules are dropped (the font stack falls back to Arial), and its
# image paths are made relative to the stylesheet.
set -euo pipefail
version="${1:?usage: refresh-nhsuk.sh VERSION (such as 10.6.1)}"
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/nhsuk"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "nhsuk-frontend@$version" >/dev/null && tar xzf "nhsuk-frontend-$version.tgz")
dist="$work/package/dist/nhsuk"
licence="$(node -p "require('$work/package/package.json').license")"
if [ "$licence" != "MIT" ]; then
  echo "nhsuk-frontend $version is licensed $licence, not MIT: check it before vendoring" >&2
  exit 1
fi

rm -rf "$target.new" && mkdir -p "$target.new/assets"
sed -e 's#@font-face{[^}]*assets\.nhs\.uk[^}]*}##g' -e 's#url(/assets/#url(assets/#g' \
  -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$dist/nhsuk-frontend.min.css" > "$target.new/nhsuk-frontend.min.css"
sed -e 's#//\# sourceMappingURL=.*$##' "$dist/nhsuk-frontend.min.js" > "$target.new/nhsuk-frontend.min.js"
cp -R "$dist/assets/images" "$target.new/assets/images"
cp "$dist/assets/manifest.json" "$target.new/assets/manifest.json"
if grep -q 'https\?://' "$target.new/nhsuk-frontend.min.css"; then
  echo "the stylesheet still names an outside address: adjust this script" >&2
  exit 1
fi
# The npm package carries no licence file: keep ours (MIT, Copyright (c) 2019 NHS.UK) and record the version.
cp "$target/LICENCE" "$target.new/LICENCE"
echo "$version" > "$target.new/VERSION"
rm -rf "$target" && mv "$target.new" "$target"
echo "vendored nhsuk-frontend $version into $target"
