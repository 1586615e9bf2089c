#!/usr/bin/env bash
# Copy the front-end dist files (and their licences) from npm into static/vendor/.
# Run by `make vendor` after changing a version in package.json; the result is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --no-save
rm -rf static/vendor && mkdir -p static/vendor/{weui,weui.js,echarts}
cp node_modules/weui/dist/style/weui.min.css node_modules/weui/LICENSE.txt static/vendor/weui/
cp node_modules/weui.js/dist/weui.min.js node_modules/weui.js/LICENSE.txt static/vendor/weui.js/
cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE node_modules/echarts/NOTICE \
   static/vendor/echarts/
for pkg in weui weui.js echarts; do
  node -p "require('./node_modules/$pkg/package.json').version" > "static/vendor/$pkg/VERSION"
done
echo "vendored: $(ls static/vendor)"
