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

// Tile is one province on the tile-grid map.
type Tile struct {
	Col, Row int
	Label    string // the province's name
	Value    int
	Href     string
}

// tileMap draws the provinces as a grid of tiles — a schematic map of the
// country, cheaper than geography and readable on a phone — shaded by value.
// Tiles come from the registry's data (provinces carry their cell), never
// from code.
func tileMap(title string, tiles []Tile) template.HTML {
	const (
		w, h = 92, 44
		gap  = 4
	)
	if len(tiles) == 0 {
		return ""
	}
	maxCol, maxRow, maxVal := 0, 0, 0
	for _, t := range tiles {
		maxCol = max(maxCol, t.Col)
		maxRow = max(maxRow, t.Row)
		maxVal = max(maxVal, t.Value)
	}
	// Five shades from light to the accent colour; an empty province is grey.
	shades := []string{"#e3ecf7", "#b9d0ec", "#84acd9", "#4f86c2", "#0b5cad"}
	W, H := (maxCol+1)*(w+gap), (maxRow+1)*(h+gap)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart tilemap" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(title), W, H)
	for _, t := range tiles {
		x, y := t.Col*(w+gap), t.Row*(h+gap)
		fill, ink := "#eceff2", "#1b1f24"
		if t.Value > 0 {
			k := (t.Value*len(shades) - 1) / max(maxVal, 1)
			k = min(max(k, 0), len(shades)-1)
			fill = shades[k]
			if k >= 3 {
				ink = "#ffffff"
			}
		}
		label := t.Label
		if r := []rune(label); len(r) > 12 {
			label = string(r[:11]) + "…"
		}
		if t.Href != "" {
			fmt.Fprintf(&sb, `<a href="%s">`, html.EscapeString(t.Href))
		}
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s"><title>%s: %d</title></rect>`,
			x, y, w, h, fill, html.EscapeString(t.Label), t.Value)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle" fill="%s">%s</text>`, x+w/2, y+18, ink, html.EscapeString(label))
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle" fill="%s" font-weight="700">%d</text>`, x+w/2, y+35, ink, t.Value)
		if t.Href != "" {
			sb.WriteString(`</a>`)
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}
