package login

import (
	"fmt"
	"html/template"
	"strings"

	"rsc.io/qr"
)

// quietZone is the white margin around a QR code, in modules (ISO/IEC
// 18004 asks for 4).
const quietZone = 4

// qrSVG renders text as a QR code (error correction level M): an inline
// SVG image named by label, its dark modules one path of runs, a row at a
// time ("M x y h n v1 h -n z"), for a page whose Content-Security-Policy
// allows no image source.
func qrSVG(text, label string) (template.HTML, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("a QR code of the link: %w", err)
	}
	side := c.Size + 2*quietZone
	var d strings.Builder
	for y := range c.Size {
		for x := 0; x < c.Size; {
			if !c.Black(x, y) {
				x++
				continue
			}
			n := 1
			for x+n < c.Size && c.Black(x+n, y) {
				n++
			}
			fmt.Fprintf(&d, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, n, n)
			x += n
		}
	}
	l := template.HTMLEscapeString(label)
	return template.HTML(fmt.Sprintf(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><title>%s</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		side, side, l, l, side, side, d.String())), nil
}
