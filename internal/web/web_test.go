package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var bigJS = strings.Repeat("console.log('patronus');\n", 100)

func testAssets() fstest.MapFS {
	return fstest.MapFS{
		"index.html":             {Data: []byte(`<!doctype html><title>Patronus</title><script type="module" src="/assets/index-abc123.js"></script>` + strings.Repeat(" ", 600))},
		"assets/index-abc123.js": {Data: []byte(bigJS)},
		"assets/app-def456.css":  {Data: []byte("body{color:red}")},
		"favicon.svg":            {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
	}
}

type answer struct {
	Status   int
	Type     string
	Cache    string
	Encoding string
	Body     string // a prefix of the body is enough to tell pages apart
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) (answer, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	prefix := string(body)
	if len(prefix) > 30 {
		prefix = prefix[:30]
	}
	return answer{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), res.Header.Get("Content-Encoding"), prefix}, res.Header, body
}

func TestHandlerServesBuild(t *testing.T) {
	h, err := NewHandler(testAssets(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Built() {
		t.Fatal("Built() = false for a build with index.html")
	}
	const html = "text/html; charset=utf-8"
	index := `<!doctype html><title>Patronus`
	tests := []struct {
		name   string
		method string
		target string
		hdr    map[string]string
		want   answer
	}{
		{"root", "GET", "/", nil, answer{200, html, "no-cache", "", index}},
		{"index by name is the root", "GET", "/index.html", nil, answer{200, html, "no-cache", "", index}},
		{"client route falls back", "GET", "/sites/0190-abc", nil, answer{200, html, "no-cache", "", index}},
		{"nested client route", "GET", "/ops/audit", nil, answer{200, html, "no-cache", "", index}},
		{"hashed asset is immutable", "GET", "/assets/index-abc123.js", nil,
			answer{200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "", "console.log('patronus');\nconso"}},
		{"css type", "GET", "/assets/app-def456.css", nil,
			answer{200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "", "body{color:red}"}},
		{"unhashed file revalidates", "GET", "/favicon.svg", nil, answer{200, "image/svg+xml", "no-cache", "", "<svg xmlns='http://www.w3.org/"}},
		{"missing asset is 404 not html", "GET", "/assets/gone-000.js", nil, answer{404, "text/plain; charset=utf-8", "", "", "404 page not found\n"}},
		{"api prefix never falls back", "GET", "/api/v1/nope", nil, answer{404, "text/plain; charset=utf-8", "", "", "404 page not found\n"}},
		{"graphql GET is not the page", "GET", "/graphql", nil, answer{404, "text/plain; charset=utf-8", "", "", "404 page not found\n"}},
		{"dot-dot stays inside", "GET", "/../../etc/passwd", nil, answer{200, html, "no-cache", "", index}},
		{"post refused", "POST", "/", nil, answer{405, "text/plain; charset=utf-8", "", "", "method not allowed\n"}},
		{"head has no body", "HEAD", "/", nil, answer{200, html, "no-cache", "", ""}},
		{"gzip when accepted", "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "br, gzip"},
			answer{200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "gzip", "\x1f\x8b"}},
		{"gzip refused by q=0", "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip;q=0"},
			answer{200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "", "console.log('patronus');\nconso"}},
		{"small files stay plain", "GET", "/assets/app-def456.css", map[string]string{"Accept-Encoding": "gzip"},
			answer{200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "", "body{color:red}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := get(t, h, tc.method, tc.target, tc.hdr)
			if tc.want.Encoding == "gzip" && strings.HasPrefix(got.Body, "\x1f\x8b") {
				got.Body = "\x1f\x8b"
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", tc.method, tc.target, diff)
			}
		})
	}
}

func TestHandlerGzipRoundTrip(t *testing.T) {
	h, err := NewHandler(testAssets(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, hdr, body := get(t, h, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": "gzip"})
	if hdr.Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary = %q, want Accept-Encoding", hdr.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != bigJS {
		t.Error("gzipped body does not decompress to the file")
	}
	if got := hdr.Get("Content-Length"); got != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %s, want %d", got, len(body))
	}
}

func TestHandlerETag(t *testing.T) {
	h, err := NewHandler(testAssets(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, hdr, _ := get(t, h, "GET", "/", nil)
	etag := hdr.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on the page")
	}
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"same", etag, http.StatusNotModified},
		{"weak form", "W/" + etag, http.StatusNotModified},
		{"one of a list", `"nope", ` + etag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"other", `"nope"`, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := get(t, h, "GET", "/", map[string]string{"If-None-Match": tc.header})
			if got.Status != tc.want {
				t.Errorf("If-None-Match %s: status %d, want %d", tc.header, got.Status, tc.want)
			}
		})
	}
}

func TestHandlerSecurityHeaders(t *testing.T) {
	h, err := NewHandler(testAssets(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, hdr, _ := get(t, h, "GET", "/", nil)
	for k := range securityHeaders {
		if hdr.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q lets the page load from elsewhere", csp)
	}
}

func TestHandlerWithoutBuild(t *testing.T) {
	for _, tc := range []struct {
		name   string
		assets fstest.MapFS
	}{
		{"nil", nil},
		{"empty", fstest.MapFS{}},
		{"no index", fstest.MapFS{"assets/x.js": {Data: []byte("x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h *Handler
			var err error
			if tc.assets == nil {
				h, err = NewHandler(nil, nil)
			} else {
				h, err = NewHandler(tc.assets, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Built() {
				t.Error("Built() = true without index.html")
			}
			for _, target := range []string{"/", "/sites/x", "/assets/index-1.js"} {
				got, _, body := get(t, h, "GET", target, nil)
				if got.Status != 200 || got.Type != "text/html; charset=utf-8" {
					t.Errorf("GET %s = %d %s, want 200 html", target, got.Status, got.Type)
				}
				if !bytes.Contains(body, []byte("make build")) || !bytes.Contains(body, []byte("npm run build")) {
					t.Errorf("GET %s: the page does not say how to build the dashboard", target)
				}
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"br, gzip, deflate":  true,
		"gzip;q=0.5":         true,
		"gzip; q=0":          false,
		"gzip;q=0.000":       false,
		"deflate, br":        false,
		"x-gzip":             false,
		"gzip;level=9":       true,
		"identity, gzip;q=1": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestEmbeddedAssets checks the embedded build (or its absence) gives a
// working handler either way.
func TestEmbeddedAssets(t *testing.T) {
	assets, built := Assets()
	h, err := NewHandler(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Built() != built {
		t.Errorf("Built() = %v, Assets() said %v", h.Built(), built)
	}
	got, _, _ := get(t, h, "GET", "/", nil)
	if got.Status != 200 || got.Type != "text/html; charset=utf-8" {
		t.Errorf("GET / = %d %s", got.Status, got.Type)
	}
}
