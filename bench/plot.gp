# Latency and throughput per system, one row per CPU placement; run by
# bench/report.py as: gnuplot -e "outdir='DIR'; reps=N" bench/plot.gp
# Reads DIR/echo_split.dat and DIR/echo_shared.dat
# (system p50_us p99_us calls_per_s mt_calls_per_s), writes DIR/benchmarks.png.
set terminal pngcairo size 1400,900 font "sans,10"
set output outdir.'/benchmarks.png'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set datafile missing '?'
set xtics nomirror
set multiplot layout 2,2 title sprintf("Echo of a 44-byte JSON value: server process + fork()ed client, median of %d runs", reps)

do for [placement in "split shared"] {
  where = placement eq "split" ? "server CPU 0, client CPU 1" : "both on CPU 0"
  set title sprintf("Latency, %s (lower is better)", where)
  set ylabel "microseconds (log scale)"
  set logscale y
  set yrange [1:*]
  plot outdir.'/echo_'.placement.'.dat' using 2:xtic(1) title "p50" lc rgb "#4477aa", \
       '' using 3 title "p99" lc rgb "#cc6677"
  unset logscale y
  set yrange [0:*]
  set title sprintf("Throughput, %s (higher is better)", where)
  set ylabel "calls per second"
  set format y "%.0s%c"
  plot outdir.'/echo_'.placement.'.dat' using 4:xtic(1) title "sequential, 1 caller" lc rgb "#228833", \
       '' using 5 title "8 threads, 1 connection" lc rgb "#ccbb44"
  set format y "%g"
}
unset multiplot
