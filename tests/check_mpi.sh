#!/bin/sh
# libalexnet_mpi under mpirun on this machine: `check_mpi.sh MODE BUILD DATA` with MODE one of
#   equivalence  2 processes x batch B = 1 process x batch 2B (tests/test_mpi.c)
#   shards       the loader's shards of an epoch hold every sample once (2 and 3 processes)
#   resume       a 2-process checkpoint resumed by 1 process, and a 1-process one by 2, end where
#                1 process training straight through ends
#   failure      a process that exits makes the job stop with an error, within a time limit
#   trainer      examples/train_fashion_mnist under mpirun -np 2 trains to the accuracy of one
#                process with the same settings, and process 0 alone writes the files
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
    # Two steps per epoch, the checkpoint after the first epoch, four steps after it. One process
    # and two compute the same steps to rounding (3e-7 of the gradient), and training amplifies
    # rounding by about ten times every two steps (max-pooling winners and ReLUs flip), so the
    # runs are compared after few steps, at a bound above what rounding grows to there (2e-6
    # measured; up to 7e-4 with two threads per process or another OpenBLAS kernel) and below
    # what a resume that lost state would give.
    train="--batch 64 --limit 128"
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
    assert distance <= 1e-3, distance
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
trainer)
    args="--data $data --epochs 1 --limit 1280 --batch 64 --threads 1 --plain-epochs 0"
    # shellcheck disable=SC2086
    "$build/examples/train_fashion_mnist" $args --out "$tmp/one" >"$tmp/one.txt"
    # shellcheck disable=SC2086
    run 2 "$build/examples/train_fashion_mnist_mpi" $args --out "$tmp/two" | tee "$tmp/two.txt"
    grep -q "in each of 2 processes (a shard of 32 images per batch each)" "$tmp/two.txt"
    [ "$(grep -c '^epoch 1/1:' "$tmp/two.txt")" -eq 1 ] || { echo "not one report"; exit 1; }
    for f in model.safetensors checkpoint.safetensors log.csv filters.png; do
        [ -s "$tmp/two/$f" ] || { echo "the MPI run wrote no $f"; exit 1; }
    done
    [ "$(grep -c '^1,' "$tmp/two/log.csv")" -eq 1 ] || { echo "log.csv written twice"; exit 1; }
    one=$(sed -n 's/.*final test accuracy: \([0-9.]*\)%.*/\1/p' "$tmp/one.txt")
    two=$(sed -n 's/.*final test accuracy: \([0-9.]*\)%.*/\1/p' "$tmp/two.txt")
    echo "final test accuracy: one process $one%, two processes $two%"
    # The same steps up to rounding, which 20 steps of training amplify a little.
    awk -v a="$one" -v b="$two" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 30 && d <= 3) }'
    ;;
*)
    echo "usage: check_mpi.sh equivalence|shards|resume|failure|trainer BUILD [DATA]"; exit 2
    ;;
esac
