#!/bin/sh
# Installs the Debian 12 packages libalexnet needs to build, test and run its demo.
# Idempotent: packages already installed are skipped, and apt-get is not called at all when
# nothing is missing. Needs root (or sudo) only when something has to be installed.
set -eu

PACKAGES="
build-essential cmake pkg-config
libopenblas-dev libstb-dev libjpeg62-turbo-dev check libjansson-dev zlib1g-dev
clang libclang-rt-14-dev valgrind
dataset-fashion-mnist
python3 python3-numpy python3-pytest python3-torch python3-torchvision python3-matplotlib
python3-pip python3-venv python3-setuptools python3-wheel python3-build python3-onnx
abigail-tools help2man
libopenmpi-dev openmpi-bin
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "setup: all Debian packages present"
    exit 0
fi

echo "setup: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
