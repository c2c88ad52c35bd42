package lab

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
)

// SortRows orders path rows by source site and link, then destination.
func SortRows(rows []PathRow) {
	slices.SortFunc(rows, func(a, b PathRow) int {
		return cmp.Or(cmp.Compare(a.SrcSite, b.SrcSite), cmp.Compare(a.SrcLink, b.SrcLink),
			cmp.Compare(a.DstSite, b.DstSite), cmp.Compare(a.DstLink, b.DstLink), cmp.Compare(a.ID, b.ID))
	})
}

// WriteTable writes path rows as the aligned table of 'patronus path
// list'. Paths never measured show "-" for their metrics.
func WriteTable(w io.Writer, rows []PathRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tSTATUS\tLATENCY\tJITTER\tLOSS\tSCORE\tID")
	for _, r := range rows {
		lat, jit, loss, score := "-", "-", "-", "-"
		if m := r.Metrics; m != nil {
			lat = strconv.FormatFloat(m.LatencyMs, 'f', 2, 64) + " ms"
			jit = strconv.FormatFloat(m.JitterMs, 'f', 2, 64) + " ms"
			loss = strconv.FormatFloat(m.PacketLossPct, 'f', 1, 64) + "%"
			score = strconv.Itoa(m.Score)
		}
		fmt.Fprintf(tw, "%s/%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.SrcSite, r.SrcLink, r.DstSite, r.DstLink,
			r.Status, lat, jit, loss, score, r.ID)
	}
	return tw.Flush()
}
