#!/usr/bin/env bash
# Installs NVRTC (NVIDIA's runtime CUDA compiler) from Debian bookworm's non-free
# component, so that Kiln.Runtime.Cuda can compile its kernels on a machine
# without a GPU or a CUDA toolkit. Idempotent: does nothing when a libnvrtc is
# already loadable. Run as root on Debian 12.
set -euo pipefail

have_nvrtc() {
  if [[ -n "${KILN_NVRTC_PATH:-}" && -e "${KILN_NVRTC_PATH}" ]]; then return 0; fi
  if ldconfig -p 2>/dev/null | grep -qE 'libnvrtc\.so(\.[0-9.]+)? '; then return 0; fi
  compgen -G '/usr/local/cuda/lib64/libnvrtc.so*' >/dev/null
}

if have_nvrtc; then
  echo "install-nvrtc: libnvrtc already present:"
  ldconfig -p 2>/dev/null | grep -E 'libnvrtc' || true
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "install-nvrtc: must run as root (apt-get)" >&2
  exit 1
fi

# Reuse the mirror of the existing bookworm source so the non-free packages come
# from the same place as everything else. Only contrib and non-free are listed:
# main is already configured by the system's own source.
mirror="http://deb.debian.org/debian"
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources || true)"
  [[ -n "$m" ]] && mirror="$m"
elif [[ -f /etc/apt/sources.list ]]; then
  m="$(awk '$1=="deb" && $0 ~ /bookworm/ && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list || true)"
  [[ -n "$m" ]] && mirror="$m"
fi

src=/etc/apt/sources.list.d/kiln-nonfree.sources
want="Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [[ ! -f "$src" ]] || [[ "$(cat "$src")" != "$want" ]]; then
  printf '%s\n' "$want" > "$src"
  echo "install-nvrtc: wrote $src (mirror $mirror)"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends libnvrtc11.2 libnvrtc-builtins11.8
ldconfig
echo "install-nvrtc: installed:"
ldconfig -p | grep -E 'libnvrtc' || { echo "install-nvrtc: libnvrtc still not found" >&2; exit 1; }
