#!/usr/bin/env bash
# Runs the data-plane benchmarks on the device machine (a bare x86-64 host: no network, no Node,
# no nginx, no wrk), from the repo root, with the kit scripts/device-kit.sh built into .device/kit.
#
#   bash scripts/device-run.sh router [FLAGS]    # node bench/router-overhead.ts --vs nginx --out $OUT FLAGS
#   bash scripts/device-run.sh streams [FLAGS]   # node bench/streams.ts --out $OUT FLAGS
#   bash scripts/device-run.sh all               # both, one after the other
#   bash scripts/device-run.sh -- CMD ARGS...    # any command, in the same environment
#
# It unpacks the kit to /tmp/kit once (node in /tmp/kit/bin, nginx/wrk/taskset wrappers beside it,
# their libraries in /tmp/kit/lib, node_modules linked into the repo root), puts /tmp/kit/bin first
# on PATH, raises the fd limit and (where writable) net.core.somaxconn and ip_local_port_range,
# prints the machine and the tools' versions, then runs the command. Results go to $OUT (default
# .device/out), with this script's whole output in $OUT/device-run.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/.device/kit
kit=/tmp/kit
out=${OUT:-$root/.device/out}
mkdir -p "$out"
exec > >(tee -a "$out/device-run.log") 2>&1

[ -f "$src/manifest.txt" ] || { echo "no kit at $src: build it with scripts/device-kit.sh and carry .device/kit" >&2; exit 1; }

# ---- unpack (once per kit: the manifest's checksum marks what /tmp/kit holds)
stamp=$(cksum <"$src/manifest.txt" | cut -d' ' -f1)
if [ ! -f "$kit/.stamp-$stamp" ]; then
  echo "== unpacking the kit into $kit"
  rm -rf "$kit"
  mkdir -p "$kit/bin"
  if command -v xz >/dev/null; then
    unxz() { xz -dc "$@"; }
  else
    # Through the dynamic loader: the copy may have lost its exec bit.
    unxz() { /lib64/ld-linux-x86-64.so.2 --library-path "$src/bootstrap" "$src/bootstrap/xz" -dc "$@"; }
  fi
  unxz "$src/node.xz" >"$kit/bin/node"
  chmod +x "$kit/bin/node"
  unxz "$src/tools.tar.xz" | tar -C "$kit" -xf -
  unxz "$src/node_modules.tar.xz" | tar -C "$kit" -xf -
  touch "$kit/.stamp-$stamp"
fi
if [ -e "$root/node_modules" ] && [ ! -L "$root/node_modules" ]; then
  echo "== keeping the repo's own node_modules"
else
  ln -sfn "$kit/node_modules" "$root/node_modules"
fi
export PATH="$kit/bin:$PATH"
hash -r

# ---- limits: thousands of streams need fds, a deep accept queue and ephemeral ports
# 10,000 streams take 20,000+ descriptors in meshd alone: raise the kernel's per-process ceiling,
# then the hard and soft limits as far as they go.
{ echo 1048576 >/proc/sys/fs/nr_open; } 2>/dev/null || true
for n in 1048576 524288 262144 131072 65536; do ulimit -Hn "$n" 2>/dev/null && ulimit -Sn "$n" 2>/dev/null && break; done
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
try_sysctl() { { echo "$2" >"/proc/sys/$1"; } 2>/dev/null || true; }
try_sysctl net/core/somaxconn 65535
try_sysctl net/ipv4/tcp_max_syn_backlog 65535
try_sysctl net/ipv4/ip_local_port_range "1024 65000"

# ---- what this machine is
echo "== machine"
echo "nproc: $(nproc); cpus allowed: $(awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)"
echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); kernel $(uname -r); $(ldd --version 2>&1 | head -1)"
echo "node: $(command -v node) $(node --version)"
echo "nginx: $(command -v nginx) $(nginx -v 2>&1)"
echo "wrk: $(command -v wrk) $(wrk -v 2>&1 | head -1)"
echo "taskset: $(command -v taskset)"
echo "fd limit: $(ulimit -n); somaxconn: $(cat /proc/sys/net/core/somaxconn); ports: $(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)"
echo "OUT: $out"

cd "$root"
run() {
  echo "== $*"
  local started=$SECONDS
  "$@"
  echo "== done in $((SECONDS - started)) s: $*"
}
what=${1:-all}
[ $# -gt 0 ] && shift
case $what in
  router) run node bench/router-overhead.ts --vs nginx --out "$out" "$@" ;;
  streams) run node bench/streams.ts --out "$out" "$@" ;;
  all)
    run node bench/router-overhead.ts --vs nginx --out "$out"
    run node bench/streams.ts --out "$out"
    ;;
  --) run "$@" ;;
  *) echo "usage: device-run.sh router|streams|all [FLAGS] | -- CMD ARGS..." >&2; exit 2 ;;
esac
