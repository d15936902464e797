package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Series is one line of a line chart: a value (0–100, a percentage) per
// point of the chart's labels; Dashed draws it dashed (a target).
type Series struct {
	Name   string
	Values []int
	Dashed bool
}

// lineChart draws percentages over time as inline SVG, server-side like
// barChart: no script, prints as it shows; the axis runs from 0 to 100%,
// labels are the x values (days), shown at the ends and the middle. The
// templates render the same numbers as a table for screen readers.
func lineChart(title string, labels []string, series []Series) template.HTML {
	const (
		w, h           = 640, 240
		left, right    = 40, 150
		top, bottom    = 10, 30
		plotW, plotH   = w - left - right, h - top - bottom
		legendRowH     = 18
		seriesClassFmt = "line line-%d"
	)
	if len(labels) == 0 {
		return ""
	}
	x := func(i int) int {
		if len(labels) == 1 {
			return left + plotW/2
		}
		return left + i*plotW/(len(labels)-1)
	}
	y := func(v int) int {
		v = min(max(v, 0), 100)
		return top + plotH - v*plotH/100
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart linechart" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(title), w, h)
	for _, v := range []int{0, 25, 50, 75, 100} {
		fmt.Fprintf(&sb, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ccc" stroke-width="1"/>`, left, y(v), left+plotW, y(v))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%d%%</text>`, left-4, y(v)+4, v)
	}
	marks := []int{0, len(labels) / 2, len(labels) - 1}
	seen := map[int]bool{}
	for i, m := range marks {
		if seen[m] {
			continue
		}
		seen[m] = true
		anchor := []string{"start", "middle", "end"}[i]
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="%s">%s</text>`, x(m), h-8, anchor, html.EscapeString(labels[m]))
	}
	colours := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#555"}
	for si, s := range series {
		c := colours[si%len(colours)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for i, v := range s.Values {
			if i < len(labels) {
				pts = append(pts, fmt.Sprintf("%d,%d", x(i), y(v)))
			}
		}
		if len(pts) == 1 {
			fmt.Fprintf(&sb, `<circle class="`+seriesClassFmt+`" cx="%d" cy="%d" r="3" fill="%s"><title>%s</title></circle>`,
				si, x(0), y(s.Values[0]), c, html.EscapeString(s.Name))
		} else {
			fmt.Fprintf(&sb, `<polyline class="`+seriesClassFmt+`" fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s</title></polyline>`,
				si, c, dash, strings.Join(pts, " "), html.EscapeString(s.Name))
		}
		ly := top + si*legendRowH + 8
		fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, left+plotW+10, ly, left+plotW+28, ly, c, dash)
		name := s.Name
		if r := []rune(name); len(r) > 18 {
			name = string(r[:17]) + "…"
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d">%s</text>`, left+plotW+32, ly+4, html.EscapeString(name))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
