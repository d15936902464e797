package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value int
	Href  string
}

// barChart draws a horizontal bar chart as inline SVG, server-side: no
// script, prints as it shows. The same numbers are rendered as a table
// beside it by the templates, for screen readers and paper.
func barChart(title string, bars []Bar) template.HTML {
	const (
		rowH   = 22
		labelW = 230
		barW   = 300
		numW   = 60
	)
	max := 1
	for _, b := range bars {
		if b.Value > max {
			max = b.Value
		}
	}
	h := rowH*len(bars) + 8
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(title), labelW+barW+numW, h)
	for i, b := range bars {
		y := 4 + i*rowH
		w := b.Value * barW / max
		if b.Value > 0 && w < 2 {
			w = 2
		}
		label := b.Label
		if r := []rune(label); len(r) > 34 {
			label = string(r[:33]) + "…"
		}
		if b.Href != "" {
			fmt.Fprintf(&sb, `<a href="%s">`, html.EscapeString(b.Href))
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+15, html.EscapeString(label))
		fmt.Fprintf(&sb, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" rx="2"><title>%s: %d</title></rect>`,
			labelW, y+3, w, rowH-8, html.EscapeString(b.Label), b.Value)
		fmt.Fprintf(&sb, `<text x="%d" y="%d">%d</text>`, labelW+w+6, y+15, b.Value)
		if b.Href != "" {
			sb.WriteString(`</a>`)
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
