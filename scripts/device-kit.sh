#!/usr/bin/env bash
# Builds .device/kit/: everything the benchmarks need on a bare x86-64 Linux host that has no
# network, no package manager, no Node, no nginx and no wrk (glibc 2.36 or newer: the binaries come
# from Debian 12). scripts/device-run.sh unpacks it there.
#
#   bash scripts/device-kit.sh            # from the repo root, on a Debian 12 machine with apt and npm
#
# What goes in (every big part already xz -9 compressed, so the copy tool cannot shrink it):
#   node.xz               the Node 24 binary of node_modules/node (npm's `node` package)
#   tools.tar.xz          nginx, wrk, taskset (libexec/), wrappers that set LD_LIBRARY_PATH for them
#                         alone (bin/), and every shared library ldd names for them beyond glibc (lib/)
#   node_modules.tar.xz   the production dependencies, `npm ci --omit=dev --ignore-scripts` in a temp
#                         dir from package.json + package-lock.json (koffi's linux_x64 build only)
#   bootstrap/            xz and liblzma, uncompressed, for a host without xz
#   manifest.txt          versions, sizes and checksums
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
kit=$root/.device/kit
node_bin=$root/node_modules/node/bin/node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt-get download runs as _apt where it can

[ -x "$node_bin" ] || { echo "no $node_bin: run npm ci first" >&2; exit 1; }
rm -rf "$kit"
mkdir -p "$kit/bootstrap"

echo "== node $("$node_bin" --version): xz -9 (a minute or two)"
xz -9 -T1 -c "$node_bin" >"$kit/node.xz"

echo "== Debian packages: nginx, wrk, taskset and their libraries"
# The libraries ldd may name, from Debian itself rather than from whatever this machine has installed.
packages=(nginx wrk libluajit-5.1-2 libpcre2-8-0 libssl3 zlib1g libcrypt1 util-linux xz-utils liblzma5)
mkdir -p "$work/debs" "$work/root"
(cd "$work/debs" && apt-get download "${packages[@]}" >/dev/null) || {
  echo "apt-get download failed: run apt-get update first" >&2
  exit 1
}
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
libpath=$work/root/lib/x86_64-linux-gnu:$work/root/usr/lib/x86_64-linux-gnu

tools=$work/tools
mkdir -p "$tools/bin" "$tools/libexec" "$tools/lib"
cp "$work/root/usr/sbin/nginx" "$work/root/usr/bin/wrk" "$work/root/usr/bin/taskset" "$tools/libexec/"

# Every library ldd resolves for a binary, except glibc's own and the C++/GCC runtime, which every
# glibc host has (and whose newer host copies must win: Node links them too).
copy_libs() {
  local missing
  missing=$(LD_LIBRARY_PATH=$libpath ldd "$1" | awk '/not found/ {print $1}')
  [ -z "$missing" ] || { echo "ldd $1: not found: $missing" >&2; exit 1; }
  LD_LIBRARY_PATH=$libpath ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' |
    while read -r name path; do
      case $name in
        libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux* | libresolv.so.* | \
          libgcc_s.so.* | libstdc++.so.*) ;;
        *) cp -L "$path" "$2/$name" ;;
      esac
    done
}
for bin in "$tools"/libexec/*; do copy_libs "$bin" "$tools/lib"; done

# Wrappers: the libraries apply to these tools alone, never to Node or the host's own programs.
for name in nginx wrk taskset; do
  cat >"$tools/bin/$name" <<EOF
#!/bin/sh
kit=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
LD_LIBRARY_PATH="\$kit/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$kit/libexec/$name" "\$@"
EOF
  chmod +x "$tools/bin/$name"
done
tar -C "$tools" -cf - bin libexec lib | xz -9 -T1 >"$kit/tools.tar.xz"

cp "$work/root/usr/bin/xz" "$kit/bootstrap/xz"
cp -L "$work/root/lib/x86_64-linux-gnu/liblzma.so.5" "$kit/bootstrap/liblzma.so.5"

echo "== production node_modules (npm ci --omit=dev --ignore-scripts)"
mkdir -p "$work/npm"
cp "$root/package.json" "$root/package-lock.json" "$work/npm/"
(cd "$work/npm" && PATH="$(dirname "$node_bin"):$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
# koffi: keep the glibc x86-64 build only (its other platform packages are optional and skipped).
find "$work/npm/node_modules" -path '*koffi*' -type d \( -name 'musl_*' -o -name 'darwin_*' -o -name 'win32_*' \
  -o -name 'freebsd_*' -o -name 'openbsd_*' -o -name 'linux_arm*' -o -name 'linux_ia32' -o -name 'linux_riscv*' \
  -o -name 'linux_loong*' \) -prune -exec rm -rf {} +
tar -C "$work/npm" -cf - node_modules | xz -9 -T1 >"$kit/node_modules.tar.xz"

{
  echo "built $(date -u +%FT%TZ) on $(grep -oP '^PRETTY_NAME="\K[^"]+' /etc/os-release), $(ldd --version | head -1)"
  echo "node $("$node_bin" --version)"
  "$work/root/usr/sbin/nginx" -v 2>&1
  LD_LIBRARY_PATH=$tools/lib "$tools/libexec/wrk" -v 2>&1 | head -1 || true
  echo "debs: $(find "$work/debs" -name '*.deb' -printf '%f ')"
  echo "libs: $(find "$tools/lib" -type f -printf '%f ')"
  echo "node_modules: $(find "$work/npm/node_modules" -mindepth 1 -maxdepth 1 -printf '%f ')"
  echo
  (cd "$kit" && find . -type f ! -name manifest.txt -printf '%P\n' | sort | xargs sha256sum)
} >"$kit/manifest.txt"

echo "== $kit"
(cd "$kit" && du -ab . | sort -n | awk '{printf "%8.1f MiB  %s\n", $1 / 1048576, $2}')
