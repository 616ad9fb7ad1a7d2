#!/usr/bin/env bash
# A fresh hostile run over every class of issue #17: non-finite and absurd numbers, integer
# overflow, provenance and concurrency of outputs, files that are not files, exit codes and
# locations, scale. Each case runs the archsim binary under a time limit (60 s; the machine may be shared) and an address-
# space limit (4 GiB), and is classified as:
#   loc      exit 2 with a location (`error: FILE:LINE...`, a `key \`K\``, or a `--flag`)
#   clean    another clean error (exit 2 without a location, or exit 1 `error:` that is not internal)
#   ok       exit 0 with finite output (where the case may succeed)
#   internal exit 1 `internal error` on bad input
#   panic    a Rust panic (exit 101 or `panicked at`)
#   hang     killed by the time limit
#   oom      killed for memory (allocation failure, SIGKILL/SIGABRT) or over 200 MB peak RSS on
#            the scale cases
#   silent   exit 0 where the input must be refused, or exit 0 with a non-finite/missing figure
# Usage: scripts/hostile/run.sh [BIN]   (default target/release/archsim; run from the repo root)
# Prints one line per non-passing case and the counts; exit 1 when panics, hangs, OOMs or silent
# wrong outputs were seen.
set -u
BIN=${1:-target/release/archsim}
BIN=$(realpath "$BIN")
REPO=$(pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
declare -A COUNT=([loc]=0 [clean]=0 [ok]=0 [internal]=0 [panic]=0 [hang]=0 [oom]=0 [silent]=0)
N=0
HOSTILE=(nan inf -inf 0 -1 1e-300 1e308 18446744073709551616)

# finite FILE...: true when no CSV/table field of the files is NaN or ±inf.
finite() {
  ! grep -Eiq '(^|[ ,:\[])(-?inf(inity)?|nan|null)([ ,\]}]|$)' "$@" 2>/dev/null
}

# case EXPECT NAME -- CMD...: EXPECT is `fail` (must be refused) or `any` (refused, or exit 0
# with finite output on stdout and in $CASE_OUT/). Runs in a fresh dir $CASE_OUT.
case_() {
  local expect=$1 name=$2; shift 3
  N=$((N + 1))
  CASE_OUT="$W/c$N"; mkdir -p "$CASE_OUT"
  local rc
  ( cd "$REPO" && ulimit -v 4194304 && exec timeout -s KILL 60 "$@" ) \
    >"$CASE_OUT/.stdout" 2>"$CASE_OUT/.stderr" </dev/null
  rc=$?
  LAST_RC=$rc
  classify "$expect" "$name" "$rc"
}

classify() {
  local expect=$1 name=$2 rc=$3 err cls
  err=$(head -c 2000 "$CASE_OUT/.stderr")
  if [[ $rc == 101 ]] || grep -q "panicked at" "$CASE_OUT/.stderr"; then cls=panic
  elif [[ $rc == 137 ]]; then
    if grep -q "memory allocation" "$CASE_OUT/.stderr"; then cls=oom; else cls=hang; fi
  elif [[ $rc == 134 ]] || grep -q "memory allocation" "$CASE_OUT/.stderr"; then cls=oom
  elif [[ $rc == 2 ]]; then
    if grep -Eq '^error: [^ ]+:[0-9]+|key `|--[a-z]|^error: .*(/|<builtin)' "$CASE_OUT/.stderr"; then cls=loc; else cls=clean; fi
  elif [[ $rc == 1 ]]; then
    if grep -q "internal error" "$CASE_OUT/.stderr"; then cls=internal; else cls=clean; fi
  elif [[ $rc == 0 ]]; then
    if [[ $expect == fail ]]; then cls=silent
    elif finite "$CASE_OUT/.stdout" $(find "$CASE_OUT" -type f \( -name '*.csv' -o -name '*.json' -o -name '*.txt' \) ! -name '.std*' 2>/dev/null); then cls=ok
    else cls=silent; fi
  else cls=clean
  fi
  COUNT[$cls]=$((COUNT[$cls] + 1))
  case $cls in loc|clean|ok) ;; *) echo "[$cls] $name (exit $rc): ${err:0:300}";; esac
}

# set_line FILE LINE TEXT: FILE with line LINE replaced.
set_line() { awk -v n="$2" -v t="$3" 'NR == n { print t; next } { print }' "$1"; }

# --- 1. non-finite and absurd numbers in every kind of input file -------------------------
for cfg in tpu_v5e h100; do
  src=configs/$cfg.toml
  lines=$(grep -nE '^[a-z_0-9]+ *= *-?[0-9.]' "$src" | cut -d: -f1)
  i=0
  for ln in $lines; do
    key=$(sed -n "${ln}p" "$src" | cut -d= -f1 | tr -d ' ')
    # two values per key, rotating through the hostile set
    for v in "${HOSTILE[$((i % 8))]}" "${HOSTILE[$(((i + 3) % 8))]}"; do
      f="$W/$cfg.$ln.toml"; set_line "$src" "$ln" "$key = $v" > "$f"
      case_ any "$cfg $key = $v" -- "$BIN" run --config "$f" --workload smoke --format csv
    done
    i=$((i + 1))
  done
done
cfgsrc=tests/data/scalesim/configs/calc_32x32_ws.cfg
for ln in $(grep -nE '^[A-Za-z]+ *: *[0-9]' "$cfgsrc" | cut -d: -f1); do
  key=$(sed -n "${ln}p" "$cfgsrc" | cut -d: -f1 | tr -d ' ')
  for v in "${HOSTILE[@]}"; do
    f="$W/h$ln.cfg"; set_line "$cfgsrc" "$ln" "$key: $v" > "$f"
    case_ any "cfg $key = $v" -- "$BIN" run --config "$f" --topology kernels/resnet50.csv --format csv
  done
done
for ln in $(grep -nE '^[a-z_]+ *= *[0-9]' kernels/smoke.toml | cut -d: -f1); do
  key=$(sed -n "${ln}p" kernels/smoke.toml | cut -d= -f1 | tr -d ' ')
  for v in "${HOSTILE[@]}"; do
    f="$W/k$ln.toml"; set_line kernels/smoke.toml "$ln" "$key = $v" > "$f"
    case_ any "kernel $key = $v" -- "$BIN" run --config tpu_v5e --workload "$f" --format csv
  done
done
for v in "${HOSTILE[@]}"; do
  printf 'workloads = ["smoke"]\nhbm.bandwidth_gbps = {from = 800, to = %s, step = 800}\n' "$v" > "$W/sw_to.toml"
  case_ any "sweep to = $v" -- "$BIN" sweep -q --config tpu_v5e --sweep "$W/sw_to.toml" --out "$W/sw_to_$N.csv"
  printf 'workloads = ["smoke"]\nhbm.bandwidth_gbps = {from = 800, to = 1600, step = %s}\n' "$v" > "$W/sw_st.toml"
  case_ any "sweep step = $v" -- "$BIN" sweep -q --config tpu_v5e --sweep "$W/sw_st.toml" --out "$W/sw_st_$N.csv"
  printf 'workloads = ["smoke"]\narray.rows = [%s]\n' "$v" > "$W/sw_l.toml"
  case_ any "sweep list = $v" -- "$BIN" sweep -q --config tpu_v5e --sweep "$W/sw_l.toml" --out "$W/sw_l_$N.csv"
  case_ fail "--gemm $v" -- "$BIN" run --config h100 --gemm "$v,8,8"
  case_ fail "--checkpoint-s $v" -- "$BIN" sweep -q --config tpu_v5e --sweep examples/sweeps/tpu_array_hbm.toml --out "$W/ck_$N.csv" --checkpoint-s "$v" --max-points 0
done
for v in nan inf -1 0 1e308; do
  case_ fail "serve --rate $v" -- "$BIN" serve --system dgx_h100_ib --model llama3_8b --rate "$v"
done

# --- 2. integer arithmetic -----------------------------------------------------------------
for g in 4294967296,1,1 1,1,4294967296 4294967295,4294967295,4294967295 18446744073709551615,1,1 65536,65536,65536,65536 1,1,1,4294967296; do
  case_ any "--gemm $g" -- "$BIN" run --config tpu_v5e --gemm "$g" --format csv
done
for seq in 4294967296 4294967295 2147483648; do
  printf 'name = "a"\n[[layer]]\ntype = "attention"\nname = "a"\nheads = 1\nseq_q = %s\nseq_kv = 16\nhead_dim = 64\n' "$seq" > "$W/att.toml"
  case_ any "attention seq_q = $seq" -- "$BIN" run --config h100 --workload "$W/att.toml" --format csv
done
printf 'Layer, M, N, K,\n' > "$W/huge.csv"; for i in $(seq 1 40); do echo "l$i, 4294967295, 4294967295, 4294967295," >> "$W/huge.csv"; done
case_ any "40 huge scalesim layers" -- "$BIN" run --config "$cfgsrc" --topology "$W/huge.csv" --format csv
case_ any "40 huge layers native" -- "$BIN" run --config tpu_v5e --topology "$W/huge.csv" --format csv
printf 'Layer, a,\nxDP, 3, 3, 1, 1, 4294967295, 1, 1,\n' > "$W/dp.csv"
case_ fail "depthwise 2^32 channels" -- "$BIN" run --config tpu_v5e --topology "$W/dp.csv"
for r in "{from = 9007199254740990, to = 9007199254740999, step = 1}" "{from = 1, to = inf, step = 1}" "{from = 1, to = 1e6, factor = 1.0000001}" "{from = 1, to = 1e300, factor = 2}" "{from = 18446744073709551615, to = 18446744073709551615, step = 1}"; do
  printf 'workloads = ["smoke"]\nchip.cores = %s\n' "$r" > "$W/rg.toml"
  case_ any "sweep range $r" -- "$BIN" sweep -q --config tpu_v5e --sweep "$W/rg.toml" --out "$W/rg_$N.csv" --max-points 100
done
for p in 18446744073709551615 0 -1 1e30; do
  case_ fail "merge --points $p" -- "$BIN" merge "$W/m_$N.csv" "$REPO/tests/data/gpu_measured.csv" --points "$p"
  case_ any "sweep --max-points $p" -- "$BIN" sweep -q --config tpu_v5e --sweep examples/sweeps/tpu_array_hbm.toml --out "$W/mp_$N.csv" --max-points "$p"
done

# --- 3. provenance and concurrency of outputs ----------------------------------------------
S1="$W/p1.toml"; printf 'workloads = ["smoke"]\narray.rows = [64, 128]\nhbm.bandwidth_gbps = [800, 1600]\n' > "$S1"
S2="$W/p2.toml"; printf 'workloads = ["smoke"]\narray.rows = [32, 128]\nhbm.bandwidth_gbps = [800, 1600]\n' > "$S2"
"$BIN" sweep -q --config tpu_v5e --sweep "$S1" --out "$W/full.csv" >/dev/null 2>&1
"$BIN" sweep -q --config tpu_v5e --sweep "$S1" --out "$W/sh1.csv" --shard 1/2 >/dev/null 2>&1
"$BIN" sweep -q --config tpu_v5e --sweep "$S2" --out "$W/sh2b.csv" --shard 2/2 >/dev/null 2>&1
cp "$W/full.csv" "$W/r1.csv"; cp "$W/full.csv.provenance.json" "$W/r1.csv.provenance.json" 2>/dev/null
case_ fail "resume with another base config" -- "$BIN" sweep -q --config tpu_v5p --sweep "$S1" --out "$W/r1.csv"
cp "$W/full.csv" "$W/r2.csv"; cp "$W/full.csv.provenance.json" "$W/r2.csv.provenance.json" 2>/dev/null
case_ fail "resume with another sweep file" -- "$BIN" sweep -q --config tpu_v5e --sweep "$S2" --out "$W/r2.csv"
case_ fail "merge shards of two sweeps" -- "$BIN" merge "$W/mm.csv" "$W/sh1.csv" "$W/sh2b.csv"
for cut in 1 5 20 60; do
  head -c -$cut "$W/full.csv" > "$W/t$cut.csv"; cp "$W/full.csv.provenance.json" "$W/t$cut.csv.provenance.json" 2>/dev/null
  case_ any "resume a CSV cut $cut bytes short" -- "$BIN" sweep -q --config tpu_v5e --sweep "$S1" --out "$W/t$cut.csv"
  if [[ $LAST_RC == 0 ]] && ! cmp -s "$W/t$cut.csv" "$W/full.csv"; then
    COUNT[ok]=$((COUNT[ok] - 1)); COUNT[silent]=$((COUNT[silent] + 1)); echo "[silent] resume cut $cut differs"
  fi
done
# a second writer while one runs
( ulimit -v 4194304; timeout 20 "$BIN" sweep -q --config tpu_v5e --sweep examples/sweeps/tpu_array_hbm.toml --out "$W/busy.csv" >/dev/null 2>&1 ) &
sleep 0.3
case_ any "second writer of one sweep CSV" -- "$BIN" sweep -q --config tpu_v5e --sweep examples/sweeps/tpu_array_hbm.toml --out "$W/busy.csv"
wait

# --- 4. files that are not files --------------------------------------------------------------
mkfifo "$W/fifo"; ln -s /dev/urandom "$W/rand.toml"; ln -s /dev/zero "$W/zero.csv"; mkdir "$W/dir.toml"
head -c 300000000 /dev/zero > "$W/big.toml" 2>/dev/null
for f in /dev/zero "$W/rand.toml" "$W/fifo" "$W/dir.toml" "$W/big.toml" /dev/null "$W/missing.toml"; do
  case_ fail "--config $f" -- "$BIN" run --config "$f" --gemm 8,8,8
  case_ fail "--config $f (main job)" -- "$BIN" --config "$f" --out "$W/mj$N"
  case_ fail "--workload $f" -- "$BIN" run --config tpu_v5e --workload "$f"
  case_ fail "--sweep $f" -- "$BIN" sweep -q --config tpu_v5e --sweep "$f" --out "$W/nf$N.csv"
done
case_ fail "--topology symlink to /dev/zero" -- "$BIN" run --config tpu_v5e --topology "$W/zero.csv"
case_ fail "validate --data /dev/null" -- "$BIN" validate --data /dev/null
case_ fail "plot sweep /dev/zero" -- "$BIN" plot sweep "$W/zero.csv" --x a --y b --out "$W/pz"
printf '\xff\xfe' > "$W/bin.toml"
case_ fail "--config binary" -- "$BIN" run --config "$W/bin.toml" --gemm 8,8,8
# temp files of killed runs are cleaned up for --out reports
mkdir -p "$W/killed"; touch "$W/killed/.report.json.tmp.4000000000"
case_ any "run --out over a killed run's temp file" -- "$BIN" run --config tpu_v5e --workload smoke --format json --out "$W/killed"
if ls -a "$W/killed" | grep -q '\.tmp\.'; then COUNT[silent]=$((COUNT[silent] + 1)); echo "[silent] temp file of a killed run left"; fi

# --- 5. exit codes and locations ---------------------------------------------------------------
touch "$W/afile"
case_ fail "run --out is a file" -- "$BIN" run --config tpu_v5e --workload smoke --format json --out "$W/afile"
case_ fail "compare --out is a file" -- "$BIN" compare --config tpu_v5e --vs h100 --workload smoke --out "$W/afile" -q
case_ fail "main job --out is a file" -- "$BIN" --config tpu_v5e --out "$W/afile" -q
sed 's/^with = .*/with = ""/' configs/tpu_v5e.toml > "$W/cw.toml"; grep -q '^with' "$W/cw.toml" || printf '\n[compare]\nwith = ""\n' >> "$W/cw.toml"
case_ fail "[compare] with = \"\"" -- "$BIN" --config "$W/cw.toml" --out "$W/cw" -q
printf '# header comment\n[array]\nrows = -4\n' > "$W/hc.toml"; cat configs/tpu_v5e.toml | sed '/^\[array\]/,/^rows/d' >> "$W/hc.toml"
case_ fail "header comment before a section" -- "$BIN" run --config "$W/hc.toml" --gemm 8,8,8
case_ fail "main-job --config before a subcommand" -- "$BIN" --config tpu_v5e run --config h100 --gemm 8,8,8
case_ fail "--model with --gemm" -- "$BIN" run --config h100 --model llama3_8b --gemm 8,8,8
case_ fail "--recompute without train" -- "$BIN" run --config h100 --model llama3_8b --recompute
case_ fail "scalesim format to stdout" -- "$BIN" run --config tpu_v5e --gemm 8,8,8 --format scalesim
case_ fail "pe mode on a GPU" -- "$BIN" run --config h100 --gemm 8,8,8 --mode pe
case_ any "list | head -1" -- bash -c "'$BIN' list | head -1"
case_ any "validate | head -1" -- bash -c "'$BIN' validate | head -1"
case_ fail "list > /dev/full" -- bash -c "'$BIN' list > /dev/full"
case_ fail "validate > /dev/full" -- bash -c "'$BIN' validate > /dev/full"
case_ fail "run > /dev/full" -- bash -c "'$BIN' run --config h100 --gemm 8,8,8 > /dev/full"
printf 'index,a,b,time_s\n' > "$W/ps0.csv"; printf 'index,a,b,time_s\n0,1,1,nan\n' > "$W/ps1.csv"
printf 'index,a,b,time_s\n0,1,1,1\n1,1,1,1\n' > "$W/ps2.csv"; printf 'index,a,b,time_s\n0,1,1,inf\n1,2,2,1e308\n2,1e-300,3,1\n' > "$W/ps3.csv"
printf 'index,a,b\n0,1\n' > "$W/ps4.csv"; printf 'garbage' > "$W/ps5.csv"
for p in ps0 ps1 ps2 ps3 ps4 ps5; do
  case_ any "plot sweep $p" -- "$BIN" plot sweep "$W/$p.csv" --x a --y b --out "$W/plot_$p"
  case_ any "plot sweep $p (same key x and y)" -- "$BIN" plot sweep "$W/$p.csv" --x a --y a --out "$W/plot2_$p"
done
for corrupt in "nan" "inf" "-1" "" "abc" "1e308"; do
  rm -rf "$W/vd"; cp -r tests/data "$W/vd"
  f="$W/vd/tpu_measured.csv"; awk -F, -v OFS=, -v c="$corrupt" 'NR == 2 { $NF = c } { print }' tests/data/tpu_measured.csv > "$f"
  case_ any "validate --data with tpu_measured last field = '$corrupt'" -- "$BIN" validate --data "$W/vd"
  f="$W/vd/gpu_measured.csv"; awk -F, -v OFS=, -v c="$corrupt" 'NR == 3 { $5 = c } { print }' tests/data/gpu_measured.csv > "$f"
  case_ any "validate --data with gpu_measured field 5 = '$corrupt'" -- "$BIN" validate --data "$W/vd"
done
for bad in "--shard 2/2" "--shard 3/2" "--shard 1/0" "--shard a" "--max-points -1" "--mode pe"; do
  case_ fail "sweep $bad" -- "$BIN" sweep -q --config h100 --sweep examples/sweeps/gpu_sm_hbm.toml --out "$W/b$N.csv" $bad
done

# --- 6. scale: a 2*10^4-row topology in bounded memory (10^6 rows: see README, measured apart) ---------------------------------------------
awk 'BEGIN { print "Layer, M, N, K,"; srand(1); for (i = 0; i < 20000; i++) printf "g%d, %d, %d, %d,\n", i, 1 + int(rand() * 4096), 1 + int(rand() * 4096), 1 + int(rand() * 4096) }' > "$W/t2e4.csv"
for args in "--config $cfgsrc --format table" "--config $cfgsrc --format csv" "--config h100 --format json"; do
  N=$((N + 1)); CASE_OUT="$W/c$N"; mkdir -p "$CASE_OUT"
  ( cd "$REPO" && exec /usr/bin/time -f '%M' -o "$CASE_OUT/.rss" timeout -s KILL 300 "$BIN" run $args --topology "$W/t2e4.csv" ) > "$CASE_OUT/.stdout" 2> "$CASE_OUT/.stderr"
  rc=$?
  rss=$(tail -1 "$CASE_OUT/.rss" 2>/dev/null || echo 0)
  if [[ $rc == 0 && ${rss:-0} -gt 204800 ]]; then COUNT[oom]=$((COUNT[oom] + 1)); echo "[oom] 2*10^4 rows $args: ${rss} kB"
  else classify any "2*10^4 rows $args" "$rc"; echo "2*10^4 rows $args: peak RSS ${rss} kB"; fi
done

echo "cases: $N"
for k in loc clean ok internal panic hang oom silent; do echo "$k: ${COUNT[$k]}"; done
[[ ${COUNT[panic]} == 0 && ${COUNT[hang]} == 0 && ${COUNT[oom]} == 0 && ${COUNT[silent]} == 0 ]]
