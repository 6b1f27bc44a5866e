#!/bin/sh
# libalexnet_mpi under mpirun on this machine: `check_mpi.sh MODE BUILD DATA` with MODE one of
#   equivalence  2 processes x batch B = 1 process x batch 2B (tests/test_mpi.c)
#   shards       the loader's shards of an epoch hold every sample once (2 and 3 processes)
#   resume       a 2-process checkpoint resumed by 1 process, and a 1-process one by 2, end where
#                1 process training straight through ends
#   failure      a process that exits makes the job stop with an error, within a time limit
set -eu
mode=$1
build=$2
data=${3:-/usr/share/datasets/fashion-mnist}
test_mpi="$build/tests/test_mpi"
# Oversubscribe the 2-core machine; run as root where the tests do (CI); shared memory without
# the single-copy mechanism containers forbid.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
run() {
    np=$1
    shift
    extra=""
    [ "$(id -u)" -ne 0 ] || extra="--allow-run-as-root"
    # shellcheck disable=SC2086
    timeout 300 mpirun --oversubscribe $extra -np "$np" "$@"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $mode in
equivalence)
    run 2 "$test_mpi" equivalence
    ;;
shards)
    run 2 "$test_mpi" shards "$data"
    run 3 "$test_mpi" shards "$data"
    ;;
resume)
    train="--batch 64 --limit 512"
    run 1 "$test_mpi" train "$data" $train --epochs 3 --weights "$tmp/straight.bin"
    run 2 "$test_mpi" train "$data" $train --epochs 1 --save "$tmp/two.safetensors"
    run 1 "$test_mpi" train "$data" $train --epochs 3 --resume "$tmp/two.safetensors" \
        --weights "$tmp/two_then_one.bin"
    run 1 "$test_mpi" train "$data" $train --epochs 1 --save "$tmp/one.safetensors"
    run 2 "$test_mpi" train "$data" $train --epochs 3 --resume "$tmp/one.safetensors" \
        --weights "$tmp/one_then_two.bin"
    /usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
tmp = sys.argv[1]
straight = np.fromfile(f"{tmp}/straight.bin", dtype=np.float32).astype(np.float64)
for name in ("two_then_one", "one_then_two"):
    w = np.fromfile(f"{tmp}/{name}.bin", dtype=np.float32).astype(np.float64)
    distance = np.linalg.norm(w - straight) / np.linalg.norm(straight)
    print(f"resume {name.replace('_', ' ')}: weights within {distance:.2e} (relative) of one "
          "process training straight through")
    assert distance <= 1e-5, distance
PY
    ;;
failure)
    start=$(date +%s)
    status=0
    run 2 "$test_mpi" failure >"$tmp/out.txt" 2>&1 || status=$?
    cat "$tmp/out.txt"
    [ "$status" -ne 0 ] || { echo "the job ended well although a process died"; exit 1; }
    [ "$status" -ne 124 ] || { echo "the job hung after a process died (timeout)"; exit 1; }
    grep -q "process 1 exits" "$tmp/out.txt"
    echo "a process that died stopped the job (status $status) in $(($(date +%s) - start)) s"
    ;;
*)
    echo "usage: check_mpi.sh equivalence|shards|resume|failure BUILD [DATA]"; exit 2
    ;;
esac
