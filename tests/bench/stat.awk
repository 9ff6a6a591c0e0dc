# The median (f=median) or the maximum (f=max) of sorted numbers, one a
# line, printed at the width of the column c of rdp-login.sh's table.
{ v[NR] = $1 }
END {
	if (f == "max")
		m = v[NR]
	else if (NR % 2)
		m = v[(NR + 1) / 2]
	else
		m = (v[NR / 2] + v[NR / 2 + 1]) / 2
	w = (c == 2 || c == 6) ? 11 : (c == 4 || c == 7) ? 12 : 9
	printf "%*.1f", w, m
}
