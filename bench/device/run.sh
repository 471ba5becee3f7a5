#!/usr/bin/env bash
# Runs on a lent GPU machine (the device tool), from the repository root with .dev/ carried (bench/device/pack.sh):
# installs Node and the Vulkan loader, unpacks the app into /tmp/app and runs the named steps, each in its own process
# with a time limit, writing results.json per step under $OUT and a log ($OUT/log.txt, its tail printed at the end).
# Steps: cpu (group fast on the CPU), gpu-inline, gpu-worker (group fast on WebGPU, one library variant per process:
# two WebGPU sessions created from two threads at once crash onnxruntime), onnx (P6, P1/P3/P4/W, the main job),
# prof (a --cpu-prof of P6, packed as $OUT/prof.tar.xz), diagnose (bench/device/diagnose.ts: every mode, and a
# --cpu-prof of its two profile modes, packed as $OUT/diagnose-prof.tar.xz). Default: cpu gpu-inline gpu-worker onnx.
# Then, here: update bench/device-results.json from $OUT's results (see docs/performance.md, "Fast hardware").
set -uo pipefail
root=$PWD
out=${OUT:?the device tool sets OUT}
xz -dc .dev/node.xz > /usr/local/bin/node && chmod +x /usr/local/bin/node
for deb in .dev/gl/*.deb; do dpkg -x "$deb" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
mkdir -p /tmp/app && tar -xJf .dev/app.tar.xz -C /tmp/app && cd /tmp/app || exit 1
BENCH_GPU="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
BENCH_COMMIT="$(cat "$root/.dev/commit")"
export BENCH_GPU BENCH_COMMIT
log=$out/log.txt
{ date -u; nproc; node -v; echo "$BENCH_GPU $BENCH_COMMIT"; lscpu | grep -E 'Model name|Thread|Hypervisor'; } > "$log" 2>&1
step() {
  local name=$1 limit=$2
  shift 2
  echo "== $name $(date -u +%T)" >> "$log"
  timeout "$limit" "$@" >> "$log" 2>&1
  echo "rc $? $(date -u +%T)" >> "$log"
  rm -f "$out/$name/results.md"
}
bench=bench/device-bench.js
for s in ${*:-cpu gpu-inline gpu-worker onnx}; do
  case $s in
    cpu) step cpu 200 node $bench --only fast --fast-devices cpu --out "$out/cpu" ;;
    gpu-inline) step gpu-inline 100 node $bench --only fast --fast-devices webgpu --fast-variants inline,inlineUnchecked --out "$out/gpu-inline" ;;
    gpu-worker) step gpu-worker 100 node $bench --only fast --fast-devices webgpu --fast-variants worker,workerUnchecked --out "$out/gpu-worker" ;;
    onnx) step onnx 240 node $bench --only perElement,onnx,mainJob --out "$out/onnx" ;;
    prof)
      step prof 90 node --cpu-prof --cpu-prof-dir="$out/prof" $bench --only perElement --out "$out/prof-results"
      (cd "$out" && tar -cJf prof.tar.xz prof && rm -rf prof) ;;
    diagnose)
      for mode in affinity threads caps 'sizes cpu' 'sizes webgpu'; do
        # shellcheck disable=SC2086 # the mode's words on purpose
        step diagnose 120 node bench/device-diagnose.js $mode
      done
      for mode in profile-library profile-reused; do
        step diagnose 60 node --cpu-prof --cpu-prof-dir="$out/diagnose-prof" bench/device-diagnose.js $mode
      done
      (cd "$out" && tar -cJf diagnose-prof.tar.xz diagnose-prof && rm -rf diagnose-prof) ;;
    *) echo "unknown step $s" >> "$log" ;;
  esac
done
date -u +%T >> "$log"
tail -c 8000 "$log"
