#!/usr/bin/env python3
"""Prints the line coverage of one source module from `swift test --enable-code-coverage`, and fails
when it is under the given minimum. Usage: coverage.py MODULE MIN_PERCENT"""
import glob, json, os, subprocess, sys

module, minimum = sys.argv[1], float(sys.argv[2])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = subprocess.run(["swift", "build", "--show-bin-path"], cwd=root, capture_output=True, text=True).stdout.strip()
profdata = os.path.join(build, "codecov", "default.profdata")
binaries = glob.glob(os.path.join(build, "*PackageTests.xctest"))
if not os.path.exists(profdata) or not binaries:
    sys.exit(f"coverage: no profile data under {build}")
# The toolchain's llvm-cov reads the toolchain's profile format; a system llvm-cov may not.
swift = subprocess.run(["sh", "-c", "command -v swift"], capture_output=True, text=True).stdout.strip()
llvm_cov = os.path.join(os.path.dirname(os.path.realpath(swift)), "llvm-cov")
if not os.path.exists(llvm_cov):
    llvm_cov = "llvm-cov"
out = subprocess.run(
    [llvm_cov, "export", "-summary-only", binaries[0], f"-instr-profile={profdata}"],
    capture_output=True, text=True, check=True).stdout
source_dir = os.path.join(root, "Sources", module) + os.sep
covered = total = 0
rows = []
for f in json.loads(out)["data"][0]["files"]:
    if f["filename"].startswith(source_dir):
        lines = f["summary"]["lines"]
        covered += lines["covered"]; total += lines["count"]
        rows.append((os.path.relpath(f["filename"], root), lines["covered"], lines["count"]))
if total == 0:
    sys.exit(f"coverage: no lines of {module} found")
for name, c, t in sorted(rows):
    print(f"  {name:60s} {c:5d}/{t:<5d} {100.0 * c / t:6.1f} %")
percent = 100.0 * covered / total
print(f"{module} line coverage: {percent:.1f} % ({covered}/{total} lines; minimum {minimum:.0f} %)")
if percent < minimum:
    sys.exit(1)
