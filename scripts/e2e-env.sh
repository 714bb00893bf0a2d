#!/usr/bin/env bash
# Brings up the real parts the end-to-end suite and the offline demo need, on a Debian 12 machine
# with no image registry reachable: Debian's Docker engine (with its built-in BuildKit), QEMU user
# emulation for linux/arm64, Debian's Distribution registry binary, and local base images made
# with mmdebstrap. Idempotent: every step checks before it acts, and base images are cached.
set -euo pipefail

CACHE_DIR=${MLIB_CACHE_DIR:-/var/cache/ml-image-build}
BASE_REPO=${MLIB_BASE_REPO:-mlib-base/bookworm-python3}
DOCKER=/usr/bin/docker   # Debian's 20.10 client: talks to the engine's BuildKit without buildx
log() { printf '[e2e-env] %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
[ -x /usr/bin/qemu-aarch64-static ] || need_pkgs+=(qemu-user-static)
command -v update-binfmts >/dev/null || need_pkgs+=(binfmt-support)
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
command -v htpasswd >/dev/null || need_pkgs+=(apache2-utils)
command -v skopeo >/dev/null || need_pkgs+=(skopeo)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v pigz >/dev/null || need_pkgs+=(pigz)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/tmp/mlib-apt.log
fi

if ! $DOCKER info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/tmp/mlib-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do $DOCKER info >/dev/null 2>&1 && break; sleep 1; done
  $DOCKER info >/dev/null 2>&1 || { log "dockerd did not start:"; tail -20 /tmp/mlib-dockerd.log; exit 1; }
fi
log "docker engine $($DOCKER version --format '{{.Server.Version}}')"

# A second, independent engine with an empty image store on its own socket and bridge (not
# docker0, which a bridge-less second daemon would remove): the tests pull back what they pushed
# with it, so every layer really comes from the registry and is checked by the engine's own pull.
PULLBACK_SOCK=/run/mlib-pullback/docker.sock
if ! $DOCKER -H "unix://$PULLBACK_SOCK" info >/dev/null 2>&1; then
  log "starting the pull-back engine"
  ip link show mlib-pb0 >/dev/null 2>&1 || { ip link add mlib-pb0 type bridge && ip addr add 172.31.250.1/24 dev mlib-pb0; }
  ip link set mlib-pb0 up
  rm -rf /var/lib/mlib-pullback && mkdir -p /var/lib/mlib-pullback /run/mlib-pullback
  nohup dockerd --data-root /var/lib/mlib-pullback --exec-root /run/mlib-pullback/exec --pidfile /run/mlib-pullback/docker.pid \
    -H "unix://$PULLBACK_SOCK" -b mlib-pb0 --iptables=false --ip6tables=false --ip-masq=false >/tmp/mlib-dockerd-pullback.log 2>&1 &
  for _ in $(seq 1 60); do $DOCKER -H "unix://$PULLBACK_SOCK" info >/dev/null 2>&1 && break; sleep 1; done
  $DOCKER -H "unix://$PULLBACK_SOCK" info >/dev/null 2>&1 || { log "the pull-back engine did not start:"; tail -20 /tmp/mlib-dockerd-pullback.log; exit 1; }
fi
log "pull-back engine on $PULLBACK_SOCK"

mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || { log "qemu-aarch64 binfmt is not enabled"; exit 1; }
log "qemu-aarch64 emulation registered"

# FROM-scratch images from debootstrapped rootfs tarballs. `docker import` would record the
# host's architecture, so each rootfs is ADDed in a --platform build instead. One line per image:
# tag, architecture, packages. The torch image carries Debian's real (CPU) torch and torchaudio.
mkdir -p "$CACHE_DIR"
while read -r tag arch packages; do
  if $DOCKER image inspect "$tag" >/dev/null 2>&1; then log "$tag present"; continue; fi
  tarball="$CACHE_DIR/$(echo "$tag" | tr '/:' '__').tar"
  if [ ! -s "$tarball" ]; then
    log "mmdebstrap $arch rootfs ($packages)"
    mmdebstrap --quiet --format=tar --variant=apt --architectures="$arch" \
      --include="$packages" bookworm "$tarball.tmp" http://deb.debian.org/debian
    mv "$tarball.tmp" "$tarball"
  fi
  ctx=$(mktemp -d)
  ln "$tarball" "$ctx/rootfs.tar" 2>/dev/null || cp "$tarball" "$ctx/rootfs.tar"
  printf 'FROM scratch\nADD rootfs.tar /\nCMD ["python3"]\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=1 $DOCKER build -q --platform "linux/$arch" -t "$tag" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "$tag built ($($DOCKER image inspect -f '{{.Architecture}}' "$tag"))"
done <<IMAGES
$BASE_REPO:amd64 amd64 python3,python3-pip,passwd
$BASE_REPO:arm64 arm64 python3,python3-pip,passwd
mlib-base/bookworm-torch:amd64 amd64 python3,python3-torch,python3-torchaudio,passwd
IMAGES
