#!/usr/bin/env bash
# setup.sh: install the Debian 12 packages idra needs to build, run and test,
# and nothing that is already there. Run as root or with sudo available.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  libssl-dev libboost1.81-dev liblmdb-dev libsodium-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  # run and test
  openssl curl python3 ca-certificates
  # third-party PKI clients of the integration tests: GnuTLS's certtool
  # (test_est.py), BouncyCastle's EST client built with javac
  # (test_est_bouncycastle.py)
  gnutls-bin libbcpkix-java libbcprov-java libbcutil-java openjdk-17-jdk-headless
  # the differential test of the policy engine runs the official Cedar
  # (npm @cedar-policy/cedar-wasm) under Node.js
  nodejs
)
# npm comes with some Node.js builds and as Debian's own package with others:
# ask for it only when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi
if [[ "${IDRA_SETUP_EXTRA:-}" != "" ]]; then
  read -r -a extra <<<"$IDRA_SETUP_EXTRA"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
