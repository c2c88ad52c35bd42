package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed all:dist
var dist embed.FS

//go:embed placeholder.html
var placeholder []byte

// Assets returns the embedded dashboard build and true, or nil and false
// when the binary was built without it.
func Assets() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil, false
	}
	return sub, true
}

// contentTypes names the types the dashboard ships, so that the answer
// does not depend on the host's mime.types file.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".webp":        "image/webp",
	".woff2":       "font/woff2",
	".txt":         "text/plain; charset=utf-8",
	".webmanifest": "application/manifest+json",
}

// compressible says which types are worth gzipping.
var compressible = map[string]bool{".html": true, ".js": true, ".mjs": true, ".css": true, ".json": true, ".map": true, ".svg": true, ".txt": true, ".webmanifest": true}

// file is one asset held in memory with its gzipped form and validator.
type file struct {
	body  []byte
	gz    []byte // nil when not worth compressing
	ctype string
	etag  string
}

// Handler serves the dashboard. It is safe for concurrent use.
type Handler struct {
	files map[string]*file // by path without the leading slash
	index *file
	built bool
	log   *slog.Logger
}

// securityHeaders are sent with every answer: the dashboard loads nothing
// from elsewhere and talks only to its own origin.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; " +
		"style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// NewHandler reads every file of assets into memory (gzipping those worth
// it) and returns a handler for them. A nil assets, or one without an
// index.html, gives a handler that answers every page with instructions
// for building the dashboard.
func NewHandler(assets fs.FS, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{files: map[string]*file{}, log: log}
	if assets != nil {
		if _, err := fs.Stat(assets, "index.html"); err == nil {
			h.built = true
		}
	}
	if !h.built {
		h.index = newFile(placeholder, ".html")
		return h, nil
	}
	err := fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, p)
		if err != nil {
			return err
		}
		h.files[p] = newFile(body, path.Ext(p))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read dashboard assets: %w", err)
	}
	h.index = h.files["index.html"]
	return h, nil
}

// Built reports whether the handler serves a real dashboard build rather
// than the instructions page.
func (h *Handler) Built() bool { return h.built }

func newFile(body []byte, ext string) *file {
	f := &file{body: body, ctype: contentTypes[ext]}
	if f.ctype == "" {
		f.ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if compressible[ext] && len(body) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		_, werr := zw.Write(body)
		if cerr := zw.Close(); werr == nil && cerr == nil && buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	// The API's own prefixes never fall back to the page: a typo in a
	// script's URL should be a 404, not HTML.
	if p == "graphql" || strings.HasPrefix(p, "api/") || p == "api" {
		http.NotFound(w, r)
		return
	}
	if f, ok := h.files[p]; ok && p != "index.html" {
		cache := "no-cache"
		if strings.HasPrefix(p, "assets/") {
			// Vite names these by content hash, so they never change.
			cache = "public, max-age=31536000, immutable"
		}
		h.write(w, r, f, cache)
		return
	}
	if path.Ext(p) != "" && p != "index.html" && h.built {
		// A missing script or image: say so rather than send HTML that
		// the browser would fail to run as code.
		http.NotFound(w, r)
		return
	}
	// A client-side route (or the root): the application's page, or the
	// instructions when it was not built.
	h.write(w, r, h.index, "no-cache")
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, f *file, cache string) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Cache-Control", cache)
	hdr.Set("ETag", f.etag)
	if f.gz != nil {
		hdr.Set("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = f.gz
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body) // a client that went away is not our error
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip with a
// non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
