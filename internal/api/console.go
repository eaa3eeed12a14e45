package api

import (
	_ "embed"
	"net/http"
)

//go:embed console/index.html
var indexHTML []byte

// index serves the console's landing page.
func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'")
	w.Write(indexHTML)
}
