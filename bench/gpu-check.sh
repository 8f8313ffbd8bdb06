#!/usr/bin/env bash
# The GPU check in one command.
#   bash bench/gpu-check.sh         here (with .NET): publish bench/GpuCheck NativeAOT (linux-x64, self-contained)
#                                   into artifacts/gpucheck, then run it once (no GPU here: it must stop with exit 2).
#   bash bench/gpu-check.sh --run   on the GPU machine (no .NET; carry artifacts/gpucheck): print nvidia-smi, find
#                                   NVRTC, run the PyTorch peer on the GPU, then GpuCheck; everything goes to
#                                   $OUT/gpu-check.log. Exits with GpuCheck's code (0 pass, 1 a check failed,
#                                   2 no CUDA device, 3 no NVRTC).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=artifacts/gpucheck

if [[ "${1:-}" != --run ]]; then
  set -e
  rm -rf "$dir"
  dotnet publish bench/GpuCheck -c Release -r linux-x64 --self-contained -p:PublishAot=true -o "$dir"
  # Only the executable travels to the GPU machine (the carry limit is 64 MiB).
  find "$dir" -type f ! -name GpuCheck -delete
  ls -l "$dir"
  set +e
  "$dir/GpuCheck"; rc=$?
  echo "gpu-check: GpuCheck exited $rc here (2 = no CUDA device, expected without a GPU)"
  [[ $rc == 0 || $rc == 2 ]]
  exit
fi

log="${OUT:-$dir}/gpu-check.log"
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1

echo "== host: $(uname -srm); $(ldd --version 2>&1 | head -n 1) (the NativeAOT GpuCheck needs glibc 2.34 or later)"
echo; echo "== nvidia-smi"
nvidia-smi 2>&1
echo; echo "== libcuda"
ls -l /usr/local/nvidia/lib64/libcuda.so* /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/lib64/libcuda.so* 2>/dev/null
# The driver may live outside the loader's cache (a read-only /usr/local/nvidia mount on some machines).
[[ -e /usr/local/nvidia/lib64/libcuda.so.1 ]] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
driver_cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' | head -n 1)

echo; echo "== NVRTC candidates (driver supports CUDA ${driver_cuda:-unknown})"
site=$(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
candidates=(/usr/local/cuda*/lib64/libnvrtc.so* /usr/lib/x86_64-linux-gnu/libnvrtc.so*)
for s in $site; do candidates+=("$s"/nvidia/cuda_nvrtc/lib/libnvrtc.so* "$s"/nvidia/cu*/lib/libnvrtc.so*); done
ls -l "${candidates[@]}" 2>/dev/null
# The newest versioned libnvrtc.so.N[.M] whose major N the driver supports (a CUBIN from a newer major does not load);
# its directory also goes on LD_LIBRARY_PATH, where NVRTC looks for libnvrtc-builtins.
best=$(printf '%s\n' "${candidates[@]}" | grep -E 'libnvrtc\.so\.[0-9]+(\.[0-9]+)*$' | while read -r f; do
  v=${f##*libnvrtc.so.}
  [[ -e $f && ( -z "$driver_cuda" || ${v%%.*} -le $driver_cuda ) ]] && echo "$v $f"
done | sort -V | tail -n 1 | cut -d' ' -f2-)
if [[ -n "$best" ]]; then
  export KILN_NVRTC_PATH="$best"
  export LD_LIBRARY_PATH="$(dirname "$best")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "KILN_NVRTC_PATH=$KILN_NVRTC_PATH"
else
  echo "no usable libnvrtc in the usual places; GpuCheck probes the loader's search path"
fi

echo; echo "== PyTorch peer (--device cuda)"
peer=$(mktemp)
timeout 90 python3 bench/pytorch_peer.py mnist data/mnist-10k --images 60000 --device cuda 2>&1 | tee -a "$peer"
timeout 45 python3 bench/pytorch_peer.py iris --device cuda 2>&1 | tee -a "$peer"

echo; echo "== GpuCheck"
chmod +x "$dir/GpuCheck"
timeout "${GPUCHECK_TIMEOUT:-240}" "$dir/GpuCheck" --peer "$peer"
rc=$?
echo; echo "gpu-check: GpuCheck exited $rc; log in $log"
exit $rc
