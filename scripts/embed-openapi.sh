#!/usr/bin/env bash
# Regenerates Sources/TetherServer/API/OpenAPIDocument.swift from openapi/openapi.json: the document is checked
# (valid JSON, OpenAPI 3.1), minified, and embedded in a Swift raw string literal served at /openapi.json.
# Usage: scripts/embed-openapi.sh   (run it after every change to openapi/openapi.json, and commit both files)
set -euo pipefail
cd "$(dirname "$0")/.."

src=openapi/openapi.json
out=Sources/TetherServer/API/OpenAPIDocument.swift

python3 - "$src" "$out" <<'PY'
import json, sys

src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8") as f:
    doc = json.load(f)
if not str(doc.get("openapi", "")).startswith("3.1"):
    sys.exit(f"{src}: not an OpenAPI 3.1 document")
minified = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
assert "\n" not in minified and "\r" not in minified

# In a Swift raw string #"""...."""#, the text must not contain the closing delimiter `"""#` nor the raw
# escape `\#` (which would start an escape or an interpolation). Use one `#` unless the JSON forbids it.
hashes = 1
while ('"""' + "#" * hashes) in minified or ("\\" + "#" * hashes) in minified:
    hashes += 1
delim = "#" * hashes

swift = (
    "/// The OpenAPI 3.1 document served at `/openapi.json`. Generated from `openapi/openapi.json` by\n"
    "/// `scripts/embed-openapi.sh`; a test checks that the two agree. Do not edit by hand.\n"
    "enum OpenAPIDocument {\n"
    f'    static let json = {delim}"""\n'
    f"        {minified}\n"
    f'        """{delim}\n'
    "}\n"
)
with open(out, "w", encoding="utf-8") as f:
    f.write(swift)
print(f"{out}: embedded {src} ({len(minified)} bytes minified, raw string delimiter {delim})")
PY
