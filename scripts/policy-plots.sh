#!/bin/sh
# Draws the paper's Figures 6-11 (xvds-sim(1)) from xvds-sim's numbers, as
# SVG files (gnuplot, Debian package gnuplot-nox).
#
# usage: scripts/policy-plots.sh [xvds-sim [outdir [xvds-sim options...]]]
#        (xvds/xvds-sim plots)
# Writes outdir/grid.txt and fig10.txt (the numbers), fig6.svg ... fig11.svg.
set -eu
sim=${1:-xvds/xvds-sim}
out=${2:-plots}
[ $# -ge 2 ] && shift 2 || shift $#
command -v gnuplot >/dev/null ||
	{ echo "policy-plots: gnuplot not found (Debian: gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"

# The numbers: the whole grid, and 4A/4C at 10% against 30%.
"$sim" "$@" >"$out/grid.txt"
"$sim" -p 4A,4C,4A:30,4C:30 -t 70,80 "$@" >"$out/fig10.txt"

# Columns: policy threshold deny_cpu deny_mem deny deny_sd migrated
# given_up max_users hot requests.
rows() { awk -v t="$2" '!/^#/ && $2 == t' "$1"; }
for t in 60 70 80 90; do
	rows "$out/grid.txt" $t >"$out/t$t.dat"
done
# Figure 9: one row per threshold, one column per policy's total denials.
awk '!/^#/ { d[$2] = d[$2] " " $5; if (!($2 in seen)) { seen[$2] = 1; ts[n++] = $2 }
	if (!($1 in pseen)) { pseen[$1] = 1; ps[m++] = $1 } }
	END { printf "threshold"; for (i = 0; i < m; i++) printf " %s", ps[i]; print "";
	for (i = 0; i < n; i++) print ts[i] d[ts[i]] }' "$out/grid.txt" >"$out/fig9.dat"
npol=$(head -1 "$out/fig9.dat" | wc -w)
awk '!/^#/ { print $1 "@" $2, $3, $4, $5, $7, $8 }' "$out/fig10.txt" >"$out/fig10.dat"

common='set terminal svg size 900,640 dynamic font "sans,12" background "white"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top left
set yrange [0:*]'

bars() {	# fig threshold title
	gnuplot <<EOF
$common
set output "$out/$1.svg"
set multiplot layout 2,1 title "$3"
set ylabel "creation denials"
plot "$out/t$2.dat" using 3:xtic(1) title "CPU", \
	"" using 4 title "memory", "" using 5 title "total"
set ylabel "migrations"
plot "$out/t$2.dat" using 7:xtic(1) title "done", \
	"" using 8 title "given up"
unset multiplot
EOF
}
bars fig6 60 "Figure 6: denials and migrations by policy, threshold 60 (means)"
bars fig7 70 "Figure 7: denials and migrations by policy, threshold 70 (means)"
bars fig8 80 "Figure 8: denials and migrations by policy, threshold 80 (means)"

gnuplot <<EOF
$common
set output "$out/fig9.svg"
set style data linespoints
set title "Figure 9: creation denials by threshold (means)"
set xlabel "threshold"
set ylabel "creation denials (CPU + memory)"
set key outside right
plot for [i=2:$npol] "$out/fig9.dat" using 1:i title columnheader(i)
EOF

gnuplot <<EOF
$common
set output "$out/fig10.svg"
set multiplot layout 2,1 title "Figure 10: 4A and 4C, rates 10% and 30% (policy:rate@threshold)"
set ylabel "creation denials"
plot "$out/fig10.dat" using 2:xtic(1) title "CPU", "" using 3 title "memory", \
	"" using 4 title "total"
set ylabel "migrations"
plot "$out/fig10.dat" using 5:xtic(1) title "done", "" using 6 title "given up"
unset multiplot
EOF

gnuplot <<EOF
$common
set output "$out/fig11.svg"
set title "Figure 11: most concurrent users by policy (means)"
set ylabel "VMs running at once"
set yrange [*:*]
set key outside right
plot "$out/t70.dat" using 9:xtic(1) title "threshold 70", \
	"$out/t80.dat" using 9 title "threshold 80"
EOF
rm -f "$out"/t*.dat
echo "policy-plots: $out/fig6.svg ... $out/fig11.svg"
