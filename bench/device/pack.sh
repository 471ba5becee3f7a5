#!/usr/bin/env bash
# Packs what a lent GPU machine needs to run `npm run bench -- --only fast` (it has no Node and reaches nothing):
# .dev/node.xz (this machine's Node), .dev/app.tar.xz (the built package with its production node_modules,
# onnxruntime-node's linux x64 binaries and esbuild bundles of bench/run.ts and bench/device/diagnose.ts),
# .dev/gl/*.deb (Debian's Vulkan loader and glvnd, for onnxruntime's WebGPU provider on the NVIDIA driver) and
# .dev/commit. Then, with the device tool:
#   run(command: "bash bench/device/run.sh cpu gpu-inline gpu-worker onnx", carry: [".dev"])
# (steps: see run.sh). .dev/ is ignored by git; it stays under the device tool's 64 MiB carry limit (≈ 40 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
dev=.dev
mkdir -p "$dev/gl"
[[ -f $dev/node.xz ]] || xz -6 -T2 -c "$(command -v node)" > "$dev/node.xz"
if ! ls "$dev"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  (cd "$dev/gl" && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libgles2 libglx0 libopengl0)
fi
npm run -s build >/dev/null
for entry in run:device-bench device/diagnose:device-diagnose; do
  npx esbuild "bench/${entry%%:*}.ts" --bundle --platform=node --format=cjs --target=node20 \
    --outfile="bench/${entry##*:}.js" --external:onnxruntime-node --external:rxjs --log-level=warning
done
trap 'rm -f bench/device-bench.js bench/device-diagnose.js' EXIT
mods=$(npm ls --omit=dev --all --parseable 2>/dev/null | sed "s#^$PWD/##" | grep '^node_modules/' || true)
extra="node_modules/rxjs node_modules/fp-ts node_modules/onnxruntime-common node_modules/tslib"
ort="node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/lib"
ort="$ort node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
app="dist/cjs bin package.json bench/device-bench.js bench/device-diagnose.js bench/handwritten-predict.js"
# shellcheck disable=SC2086 # word lists on purpose
tar -cf - $app $mods $extra $ort 2>/dev/null |
  xz -6 -T2 > "$dev/app.tar.xz"
git rev-parse --short HEAD > "$dev/commit"
du -sh "$dev"
